"""Prints the mutation score of each mutated module and its surviving mutants, from the
results `mutmut run` left in mutants/ (run by `make mutation`)."""

import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

BIN = Path(sys.executable).parent
# mutmut's names: bot.processor.x_data_summary__mutmut_3, bot.processor.xǁ_FloodǁX__mutmut_1
NAME = re.compile(r"^\s*(?P<name>(?P<module>[\w.]+?)\.x\w*?ǁ?[\wǁ]*__mutmut_\d+): (?P<status>.+)$")
# Statuses a test suite answered; the others ("not checked", "skipped"…) are not counted.
KILLED = {"killed", "timeout", "caught by type check", "segfault"}
COUNTED = KILLED | {"survived", "no tests", "suspicious"}


def main() -> int:
    done = subprocess.run([str(BIN / "mutmut"), "results", "--all", "true"], text=True,
                          capture_output=True, check=False)
    statuses: dict[str, Counter] = defaultdict(Counter)
    survivors: dict[str, list[str]] = defaultdict(list)
    for line in done.stdout.splitlines():
        found = NAME.match(line)
        if not found:
            continue
        module, status = found["module"], found["status"].strip()
        statuses[module][status] += 1
        if status in COUNTED - KILLED:
            survivors[module].append(f"{found['name']} ({status})")
    if not statuses:
        print("no mutation results: run `make mutation` first", file=sys.stderr)
        return 1
    print(f"{'module':28} {'killed':>7} {'counted':>8} {'score':>7}  other")
    for module in sorted(statuses):
        counts = statuses[module]
        killed = sum(counts[s] for s in KILLED)
        counted = sum(counts[s] for s in COUNTED)
        other = ", ".join(f"{n} {s}" for s, n in counts.items() if s not in COUNTED)
        score = f"{100 * killed / counted:.1f} %" if counted else "—"
        print(f"{module:28} {killed:>7} {counted:>8} {score:>7}  {other}")
    for module in sorted(survivors):
        print(f"\nsurvivors in {module} (`.venv/bin/mutmut show NAME` for the change):")
        for name in survivors[module]:
            print(f"  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Mutation testing of the modules that hold the README's promises, each against its own fast
test files (`make mutation`); then prints each module's score and its surviving mutants.

mutmut reads one configuration per folder, and would run every selected test file for every
mutant; so each module gets a folder of its own under mutants/, with links to the code and the
tests and a configuration naming only its test files.

    python tests/mutation_testing.py run [MODULE...]   # mutate (all modules by default)
    python tests/mutation_testing.py sample [MODULE...]  # only the mutants numbered …7 (1 in 10)
    python tests/mutation_testing.py score             # scores and survivors of the last runs
"""

import os
import re
import subprocess
import sys
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "mutants"
BIN = Path(sys.executable).parent
SOURCES = ("bot", "admin", "storage", "nlp")
# Tests that start `python -m bot` in another process: a mutant does not follow them there.
OUT_OF_PROCESS = "not set_webhook and not resets_a_lost_second_factor"
# module → (its test files, a pytest -k expression that keeps the fast tests about it)
MODULES: dict[str, tuple[list[str], str]] = {
    "admin/small_counts.py": (["tests/admin/test_associations.py"], "mask or boundary"),
    "bot/engine/keywords.py": (["tests/engine/test_engine.py"], ""),
    "bot/processor.py": (["tests/bot/test_flood.py", "tests/bot/test_referral.py",
                          "tests/bot/test_conversation_path.py", "tests/bot/test_web.py",
                          "tests/admin/test_feedback.py"], ""),
    "bot/delivery.py": (["tests/bot/test_conversation_path.py", "tests/channels/test_sms.py",
                         "tests/channels/test_telegram.py"],
                        "conversation or unsubscribed or invalid_number or transient or hung "
                        "or per_second or retry_after or a_403 or a_second_per_chat or failures "
                        "or lease or allowed_hours or at_night"),
    "admin/exports.py": (["tests/admin/test_exports.py"], ""),
    "bot/channels/telegram.py": (["tests/channels/test_telegram_adapter.py",
                                  "tests/channels/test_telegram.py"],
                                 "not retry_after and not a_second_per_chat"),
    "bot/channels/twilio_sms.py": (["tests/channels/test_sms_adapter.py",
                                    "tests/channels/test_sms.py"],
                                   "not transient and not hung and not per_second "
                                   "and not flood"),
    "admin/auth.py": (["tests/admin/test_security.py", "tests/admin/test_sign_in.py",
                       "tests/admin/test_second_factor.py", "tests/admin/test_account.py"], ""),
}
# Log calls: what they say is for the operator, no promise of the README; not mutated.
NOT_MUTATED = [r"^\s*log\.(debug|info|warning|error|exception|critical)\("]
# One mutant in ten, the same ones at every run: those whose number ends in 7.
SAMPLE = "*__mutmut_*7"
# mutmut's statuses: a test failed (or hung) on these…
KILLED = {"killed", "timeout", "caught by type check", "segfault"}
# …and these count against the score; the others ("not checked", "skipped") are not counted.
COUNTED = KILLED | {"survived", "no tests", "suspicious"}
RESULT = re.compile(r"^\s*(?P<name>\S+__mutmut_\d+): (?P<status>.+)$")


def folder(module: str) -> Path:
    """Returns where one module's mutants are made and run."""
    return WORK / module.removesuffix(".py").replace("/", ".")


def prepare(module: str) -> Path:
    """Makes a module's folder: links to the code and tests, and its mutmut configuration."""
    files, keep = MODULES[module]
    place = folder(module)
    place.mkdir(parents=True, exist_ok=True)
    for name in (*SOURCES, "tests"):
        link = place / name
        if not link.exists():
            link.symlink_to(ROOT / name, target_is_directory=True)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pytest_options = project["tool"]["pytest"]["ini_options"]
    selected = f"({keep}) and {OUT_OF_PROCESS}" if keep else OUT_OF_PROCESS
    (place / "pyproject.toml").write_text("\n".join([
        "[tool.pytest.ini_options]",
        f"asyncio_mode = {_toml(pytest_options['asyncio_mode'])}",
        "asyncio_default_fixture_loop_scope = "
        f"{_toml(pytest_options['asyncio_default_fixture_loop_scope'])}",
        f"markers = {_toml(pytest_options['markers'])}",
        "",
        "[tool.mutmut]",
        f"source_paths = {_toml(list(SOURCES))}",
        f"only_mutate = {_toml([module])}",
        f"do_not_mutate_patterns = {_toml(NOT_MUTATED)}",
        f"pytest_add_cli_args_test_selection = {_toml(files)}",
        f"pytest_add_cli_args = {_toml(['-p', 'no:cacheprovider', '-k', selected])}",
        "",
    ]), encoding="utf-8")
    return place


def _toml(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def run(modules: list[str], sample: bool = False) -> int:
    """Runs mutmut on each module, one worker, one module after the other."""
    for module in modules:
        place = prepare(module)
        print(f"== {module}: {len(MODULES[module][0])} test file(s)", flush=True)
        done = _mutmut(place, [SAMPLE] if sample else [])
        if sample and done.returncode != 0 and "nothing matches" in _log(place):
            done = _mutmut(place, [])  # too few mutants for a sample: all of them
        if done.returncode != 0:
            print(f"   mutmut stopped ({done.returncode}): see {place / 'mutmut.log'}")
    return 0


def _mutmut(place: Path, names: list[str]) -> subprocess.CompletedProcess:
    with open(place / "mutmut.log", "w", encoding="utf-8") as log:
        return subprocess.run([str(BIN / "mutmut"), "run", "--max-children", "1", *names],
                              cwd=place, stdout=log, stderr=subprocess.STDOUT, check=False,
                              env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


def _log(place: Path) -> str:
    return (place / "mutmut.log").read_text(encoding="utf-8", errors="replace")


def results(module: str) -> dict[str, str]:
    """Returns the status of each mutant of a module, from its last run."""
    place = folder(module)
    if not (place / "mutants").exists():
        return {}
    done = subprocess.run([str(BIN / "mutmut"), "results", "--all", "true"], cwd=place,
                          text=True, capture_output=True, check=False)
    return {found["name"]: found["status"].strip() for line in done.stdout.splitlines()
            if (found := RESULT.match(line))}


def score() -> int:
    """Prints each module's score and its survivors."""
    survivors: dict[str, list[str]] = defaultdict(list)
    print(f"{'module':28} {'killed':>7} {'counted':>8} {'score':>7}  not counted")
    for module in MODULES:
        found = results(module)
        counts = Counter(found.values())
        killed = sum(counts[s] for s in KILLED)
        counted = sum(counts[s] for s in COUNTED)
        other = ", ".join(f"{n} {s}" for s, n in counts.items() if s not in COUNTED)
        shown = f"{100 * killed / counted:.1f} %" if counted else "—"
        print(f"{module:28} {killed:>7} {counted:>8} {shown:>7}  {other or '—'}")
        survivors[module] = [f"{name} ({status})" for name, status in sorted(found.items())
                             if status in COUNTED - KILLED]
    for module, names in survivors.items():
        if names:
            print(f"\nsurvivors of {module} (`mutmut show NAME` in "
                  f"{folder(module).relative_to(ROOT)} shows one):")
            print("\n".join(f"  {name}" for name in names))
    return 0


if __name__ == "__main__":
    command, *wanted = sys.argv[1:] or ["score"]
    unknown = [m for m in wanted if m not in MODULES]
    if command not in ("run", "sample", "score") or unknown:
        sys.exit(f"usage: {sys.argv[0]} run|sample|score [MODULE...] "
                 f"(modules: {', '.join(MODULES)})")
    if command == "score":
        sys.exit(score())
    sys.exit(run(wanted or list(MODULES), sample=command == "sample"))

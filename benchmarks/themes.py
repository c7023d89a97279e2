"""Theme models of the shipped consultations, scored on answers written apart from their files.

Trains each consultation's model from its file alone, as `relais nlp train --missing` does on a
fresh install, and scores it on tests/nlp/data/themes/<id>.<set>.jsonl: macro-F1, accuracy,
expected calibration error (10 bins), the share of the themes of multi-subject answers that
`themes_of` finds, the share of single-subject answers it gives several themes, and texts/s.
The dev sets are for tuning; the test sets are measured only before and after a change.
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

# Run as a script, this file's folder comes first on the path and its name hides the nlp
# package: look in the project instead.
sys.path[0] = str(Path(__file__).resolve().parents[1])

from bot.consultations import load_flows  # noqa: E402
from bot.themes import train_flow  # noqa: E402
from nlp import metrics  # noqa: E402
from nlp.data import read_jsonl, read_theme_lists  # noqa: E402

SETS = Path(__file__).resolve().parents[1] / "tests" / "nlp" / "data" / "themes"
CONSULTATIONS = ("mobilite", "jeunesse", "diagnostic")


def measure(classifier, path: Path) -> dict:
    """Scores a classifier on one labelled file, themes_of included."""
    texts, labels = read_jsonl(path)
    result = metrics.evaluate(classifier, texts, labels)
    found = [[label.theme for label in themes] for themes in classifier.themes_of(texts)]
    return result | metrics.theme_sets(read_theme_lists(path), found)


def main() -> None:
    """Trains each consultation's model from its file and prints its scores on one set."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", choices=("dev", "test"), default="dev")
    parser.add_argument("--consultation", action="append", choices=CONSULTATIONS)
    parser.add_argument("--json", action="store_true", help="every score, as JSON")
    args = parser.parse_args()
    flows = load_flows()
    results = {}
    print(f"{'consultation':<12} {'rows':>5} {'macro-F1':>8} {'accuracy':>8} {'ECE':>6} "
          f"{'multi':>6} {'single>1':>8} {'train s':>7} {'texts/s':>8}")
    for name in args.consultation or CONSULTATIONS:
        began = time.perf_counter()
        classifier = train_flow(flows[name], [], lambda _line: None)
        seconds = time.perf_counter() - began
        result = measure(classifier, SETS / f"{name}.{args.set}.jsonl") | {"train_s": seconds}
        results[name] = result
        print(f"{name:<12} {result['rows']:>5} {result['macro_f1']:8.3f} "
              f"{result['accuracy']:8.3f} {result['ece']:6.3f} {result['multi_recall']:6.3f} "
              f"{result['single_given_several']:8.3f} {seconds:7.1f} "
              f"{result['texts_per_second']:8,.0f}", flush=True)
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=1))
    print(f"\n{args.set} set; multi: share of the themes of multi-subject answers found by "
          "themes_of; single>1: share of single-subject answers given several themes; "
          "train s: both trainings of relais nlp train (held-out fifth, then all rows)")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {platform.system()} {platform.release()}")


if __name__ == "__main__":
    main()

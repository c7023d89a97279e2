"""Theme classifier on real citizens' answers: 5-fold cross-validation and a learning curve.

Reads the Grand Débat answers next to the project (shared/data/granddebat/train.jsonl) and
prints, for 50, 200, 1,000 and all training rows, the mean macro-F1 over 5 folds, the expected
calibration error of the scores, the training time (calibration included) and the
classification speed (texts/s, from raw text, one process).
"""

import argparse
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

# Run as a script, this file's folder comes first on the path and its name hides the nlp
# package: look in the project instead.
sys.path[0] = str(Path(__file__).resolve().parents[1])

from nlp import metrics  # noqa: E402
from nlp.data import read_jsonl  # noqa: E402
from nlp.model import train  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "granddebat" / "train.jsonl"
SIZES = (50, 200, 1000, None)  # None: every training row of the fold


def folds(labels: list[str], count: int, seed: int = 0) -> list[list[int]]:
    """Splits row indices into `count` folds with the same share of each label."""
    by_label: dict[str, list[int]] = {}
    for index, label in enumerate(labels):
        by_label.setdefault(label, []).append(index)
    rng = random.Random(seed)
    parts: list[list[int]] = [[] for _ in range(count)]
    for indices in by_label.values():
        rng.shuffle(indices)
        for position, index in enumerate(indices):
            parts[position % count].append(index)
    return parts


def sample(indices: list[int], labels: list[str], size: int | None, seed: int) -> list[int]:
    """Draws `size` training rows with every label in proportion (all rows when None)."""
    if size is None or size >= len(indices):
        return indices
    rng = random.Random(seed)
    by_label: dict[str, list[int]] = {}
    for index in indices:
        by_label.setdefault(labels[index], []).append(index)
    chosen = []
    for group in by_label.values():
        chosen += rng.sample(group, max(1, round(size * len(group) / len(indices))))
    return chosen[:size]


def redaction_speed(texts: list[str]) -> None:
    """Prints how many answers a second the redaction masks, in batches, one process."""
    from nlp.redaction import Redactor

    redactor = Redactor.load()
    redactor.redact_many(texts[:100])
    began = time.perf_counter()
    redactor.redact_many(texts)
    print(f"\nredaction: {len(texts) / (time.perf_counter() - began):,.0f} answers/s "
          f"({len(texts):,} answers)")


def main() -> None:
    """Runs the cross-validation and prints one line per training size."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--sizes", type=lambda text: [None if size == "all" else int(size)
                                                     for size in text.split(",")],
                        default=list(SIZES), help="training rows, e.g. 200,all (a quicker run)")
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"{args.data} is absent: this benchmark needs the Grand Débat answers")
    texts, labels = read_jsonl(args.data)
    parts = folds(labels, args.folds)
    print(f"{len(texts):,} answers, {len(set(labels))} themes, {args.folds}-fold "
          "cross-validation\n")
    print(f"{'training rows':>14} {'macro-F1':>9} {'± sd':>6} {'ECE':>6} {'train s':>8} "
          f"{'texts/s':>8}")
    for size in args.sizes:
        scores, errors, seconds, speeds = [], [], [], []
        for k, test in enumerate(parts):
            pool = [i for j, part in enumerate(parts) if j != k for i in part]
            rows = sample(pool, labels, size, seed=k)
            began = time.perf_counter()
            model = train([texts[i] for i in rows], [labels[i] for i in rows], "bench")
            seconds.append(time.perf_counter() - began)
            result = metrics.evaluate(model, [texts[i] for i in test], [labels[i] for i in test])
            scores.append(result["macro_f1"])
            errors.append(result["ece"])
            speeds.append(result["texts_per_second"])
        shown = "all" if size is None else f"{size:,}"
        print(f"{shown:>14} {statistics.mean(scores):9.4f} {statistics.stdev(scores):6.3f} "
              f"{statistics.mean(errors):6.3f} {statistics.mean(seconds):8.1f} "
              f"{statistics.mean(speeds):8,.0f}", flush=True)
    redaction_speed(texts[:3000])
    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {platform.system()} {platform.release()}")


if __name__ == "__main__":
    main()

"""Scores a redactor on hand-labelled answers: precision, recall and F1 per label, and speed."""

import argparse
import json
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from nlp.redaction import LABELS, Redactor, Span

CASES = Path(__file__).parents[1] / "tests" / "nlp" / "data" / "redaction_cases.jsonl"
# Throughput is measured on the cases repeated up to this many answers, so that the model's
# batching is what it will be on a real export.
THROUGHPUT_ANSWERS = 3000


def load_cases(path: Path = CASES) -> list[dict]:
    """Reads labelled answers, one {"text", "spans": [{"start", "end", "label"}]} per line."""
    with open(path, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def gold_spans(case: Mapping) -> list[Span]:
    """Returns the labelled spans of one case."""
    return [Span(s["start"], s["end"], s["label"]) for s in case["spans"]]


def exact(predicted: Span, gold: Span) -> bool:
    """Tells whether a prediction has exactly the boundaries of the gold span."""
    return predicted == gold


def overlapping(predicted: Span, gold: Span) -> bool:
    """Tells whether a prediction of the gold span's label covers at least half of the gold span."""
    # "Mme Benali" for "Benali" counts, since the placeholder hides the name all the same; a
    # prediction that covers less than half of the gold text leaves most of it readable.
    shared = min(predicted.end, gold.end) - max(predicted.start, gold.start)
    return predicted.label == gold.label and shared > 0 and \
        2 * shared >= gold.end - gold.start


def count(predicted: Sequence[Span], gold: Sequence[Span], match) -> dict[str, list[int]]:
    """Returns [true positives, false positives, false negatives] per label, pairing each gold
    span with at most one prediction."""
    counts = {label: [0, 0, 0] for label in LABELS}
    unmatched = list(gold)
    for span in predicted:
        pair = next((g for g in unmatched if match(span, g)), None)
        if pair is None:
            counts[span.label][1] += 1
        else:
            unmatched.remove(pair)
            counts[span.label][0] += 1
    for span in unmatched:
        counts[span.label][2] += 1
    return counts


def masked(predicted: Sequence[Span], gold: Sequence[Span]) -> dict[str, list[int]]:
    """Returns [hidden, gold] per label: how many gold spans some prediction of any label covers
    at least half of, as an official reading the page would see them."""
    counts = {label: [0, 0] for label in LABELS}
    for span in gold:
        covered = sum(max(0, min(p.end, span.end) - max(p.start, span.start)) for p in predicted)
        counts[span.label][0] += 2 * covered >= span.end - span.start
        counts[span.label][1] += 1
    return counts


def scores(tp: int, fp: int, fn: int) -> dict:
    """Returns precision, recall and F1 from counts (1.0 where nothing was to be found)."""
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn,
            "predicted": tp + fp}


def evaluate(redactor: Redactor, cases: Sequence[Mapping],
             throughput_answers: int = THROUGHPUT_ANSWERS) -> dict:
    """Returns per_label scores under the overlap rule (the targets) and the exact rule,
    the errors, and answers_per_second of redact_many."""
    texts = [case["text"] for case in cases]
    found = redactor.find_many(texts)
    totals = {"exact": {label: [0, 0, 0] for label in LABELS},
              "overlap": {label: [0, 0, 0] for label in LABELS}}
    hidden = {label: [0, 0] for label in LABELS}
    clean = [0, 0]  # answers without personal data: [left untouched, all]
    errors = []
    for case, predicted in zip(cases, found, strict=True):
        gold = gold_spans(case)
        for label, counts in masked(predicted, gold).items():
            hidden[label] = [a + b for a, b in zip(hidden[label], counts, strict=True)]
        if not gold:
            clean[0] += not predicted
            clean[1] += 1
        for rule, match in (("exact", exact), ("overlap", overlapping)):
            for label, counts in count(predicted, gold, match).items():
                totals[rule][label] = [a + b for a, b in zip(totals[rule][label], counts,
                                                             strict=True)]
        if set(predicted) != set(gold):
            errors.append({"text": case["text"],
                           "missed": [_show(case["text"], s) for s in gold if s not in predicted],
                           "wrong": [_show(case["text"], s) for s in predicted if s not in gold]})
    overall = [sum(counts[k] for counts in totals["overlap"].values()) for k in range(3)]
    return {
        "per_label": {label: scores(*totals["overlap"][label]) for label in LABELS},
        "per_label_exact": {label: scores(*totals["exact"][label]) for label in LABELS},
        # a gold span hidden under another label's placeholder is still hidden
        "hidden": {label: hidden / total if total else 1.0
                   for label, (hidden, total) in hidden.items()},
        "overall": scores(*overall),
        "clean_untouched": clean,
        "errors": errors,
        "answers_per_second": throughput(redactor, texts, throughput_answers),
        "answers": len(cases),
    }


def throughput(redactor: Redactor, texts: Sequence[str], answers: int) -> float:
    """Returns how many answers a second redact_many handles on texts repeated to answers."""
    if not texts:
        return 0.0
    batch = list(texts) * max(1, -(-answers // len(texts)))
    began = time.perf_counter()
    redactor.redact_many(batch)
    elapsed = time.perf_counter() - began
    return len(batch) / elapsed if elapsed else 0.0


def _show(text: str, span: Span) -> str:
    return f"{span.label} {text[span.start:span.end]!r}"


def table(result: dict) -> str:
    """Formats the scores for a terminal, in French."""
    lines = [f"{'':<8} {'chevauchement (cibles)':^35} | {'bornes exactes':^24} |",
             f"{'type':<8} {'précision':>9} {'rappel':>7} {'F1':>6} {'effectif':>9} | "
             f"{'précision':>9} {'rappel':>7} {'F1':>6} | {'masqué':>6}"]
    for label in LABELS:
        o, e = result["per_label"][label], result["per_label_exact"][label]
        lines.append(f"{label:<8} {o['precision']:>9.3f} {o['recall']:>7.3f} {o['f1']:>6.3f} "
                     f"{o['support']:>9} | {e['precision']:>9.3f} {e['recall']:>7.3f} "
                     f"{e['f1']:>6.3f} | {result['hidden'][label]:>6.3f}")
    overall = result["overall"]
    untouched, clean = result["clean_untouched"]
    lines += [f"{'total':<8} {overall['precision']:>9.3f} {overall['recall']:>7.3f} "
              f"{overall['f1']:>6.3f} {overall['support']:>9}",
              "", f"{result['answers']} réponses, {result['answers_per_second']:,.0f} réponses/s "
                  "(redact_many)",
              f"réponses sans donnée personnelle laissées intactes : {untouched} sur {clean}",
              "chevauchement : même type et au moins la moitié de l'étendue de référence "
              "couverte ; bornes exactes : mêmes début et fin ; masqué : au moins la moitié "
              "couverte, quel que soit le type"]
    return "\n".join(line.rstrip() for line in lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Prints the scores of the redactor on a labelled file."""
    parser = argparse.ArgumentParser(prog="python -m nlp.redaction_eval", description=__doc__)
    parser.add_argument("file", nargs="?", type=Path, default=None,
                        help="JSON Lines of labelled answers (default: the hand-labelled set)")
    parser.add_argument("--cases", type=Path, default=None, metavar="FILE",
                        help="the same as the positional FILE")
    parser.add_argument("--ner-only", action="store_true",
                        help="persons from the model's PER entities alone, without the rules")
    parser.add_argument("--errors", action="store_true", help="also list every wrong answer")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.file and args.cases and args.file != args.cases:
        parser.error("give the cases once, as FILE or --cases FILE")
    args.file = args.file or args.cases or CASES
    try:
        cases = load_cases(args.file)
    except (OSError, ValueError, KeyError) as error:
        print(f"cannot read {args.file}: {error}", file=sys.stderr)
        return 2
    result = evaluate(Redactor.load(person_rules=not args.ner_only), cases)
    if args.json:
        print(json.dumps(result if args.errors else {k: v for k, v in result.items()
                                                     if k != "errors"}, ensure_ascii=False))
        return 0
    print(table(result))
    if args.errors:
        for error in result["errors"]:
            print(f"\n{error['text']}\n  manqué : {error['missed']}\n  en trop : {error['wrong']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Scores of a classifier on labelled texts: macro-F1, accuracy, per label, confusion, speed,
calibration and the themes found in answers with several subjects."""

import time

import numpy as np

from nlp.model import Classifier


def evaluate(classifier: Classifier, texts: list[str], labels: list[str]) -> dict:
    """Returns macro_f1, accuracy, per_label (precision, recall, f1, support), confusion,
    ece (expected calibration error of the best theme's score) and texts_per_second."""
    began = time.perf_counter()
    best = classifier.classify(texts)
    elapsed = time.perf_counter() - began
    predicted = [label.theme for label in best]
    ece = calibration_error([label.score for label in best],
                            [p == t for p, t in zip(predicted, labels, strict=True)])
    return score(labels, predicted) | {
        "ece": ece, "texts_per_second": len(texts) / elapsed if elapsed else 0.0,
        "rows": len(texts)}


def calibration_error(confidences: list[float], correct: list[bool], bins: int = 10) -> float:
    """Expected calibration error: the gap between stated confidence and accuracy, averaged
    over equal-width confidence bins weighted by their share of the rows."""
    if not confidences:
        return 0.0
    confidence = np.asarray(confidences, dtype=float)
    hit = np.asarray(correct, dtype=float)
    # A score of exactly 1.0 belongs to the last bin, not an eleventh one.
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.sum() * abs(confidence[inside].mean() - hit[inside].mean())
    return float(total / len(confidence))


def theme_sets(truth: list[list[str]], found: list[list[str]]) -> dict:
    """Compares the themes found in each text with its true ones: recall over the texts with
    several true themes (share of their themes found), and the share of texts with one true
    theme that were given more than one."""
    several = [(set(t), set(f)) for t, f in zip(truth, found, strict=True) if len(t) > 1]
    single = [f for t, f in zip(truth, found, strict=True) if len(t) == 1]
    recovered = sum(len(t & f) for t, f in several)
    return {"multi_rows": len(several),
            "multi_recall": recovered / sum(len(t) for t, _ in several) if several else 0.0,
            "multi_exact": sum(t == f for t, f in several) / len(several) if several else 0.0,
            "single_rows": len(single),
            "single_given_several": sum(len(f) > 1 for f in single) / len(single)
            if single else 0.0}


def score(truth: list[str], predicted: list[str]) -> dict:
    """Compares predictions with the truth."""
    names = sorted(set(truth) | set(predicted))
    confusion = {t: dict.fromkeys(names, 0) for t in names}
    for t, p in zip(truth, predicted, strict=True):
        confusion[t][p] += 1
    per_label = {}
    for name in names:
        hits = confusion[name][name]
        predicted_as = sum(confusion[t][name] for t in names)
        support = sum(confusion[name].values())
        precision = hits / predicted_as if predicted_as else 0.0
        recall = hits / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[name] = {"precision": precision, "recall": recall, "f1": f1,
                           "support": support}
    present = [name for name in names if per_label[name]["support"]]
    macro = sum(per_label[n]["f1"] for n in present) / len(present) if present else 0.0
    accuracy = sum(confusion[n][n] for n in names) / len(truth) if truth else 0.0
    return {"macro_f1": macro, "accuracy": accuracy, "per_label": per_label,
            "confusion": confusion}


def table(result: dict) -> str:
    """Formats scores for a terminal, in French."""
    lines = [f"macro-F1 : {result['macro_f1']:.3f}   exactitude : {result['accuracy']:.3f}   "
             f"ECE : {result.get('ece', 0):.3f}   "
             f"{result.get('texts_per_second', 0):,.0f} textes/s", "",
             f"{'thème':<36} {'précision':>9} {'rappel':>7} {'F1':>6} {'effectif':>8}"]
    for name, values in result["per_label"].items():
        lines.append(f"{name[:36]:<36} {values['precision']:>9.3f} {values['recall']:>7.3f} "
                     f"{values['f1']:>6.3f} {values['support']:>8}")
    names = list(result["confusion"])
    lines += ["", "matrice de confusion (lignes : vrai thème, colonnes : thème prédit)",
              " " * 14 + " ".join(f"{n[:8]:>8}" for n in names)]
    for name in names:
        row = result["confusion"][name]
        lines.append(f"{name[:13]:<14}" + " ".join(f"{row[n]:>8}" for n in names))
    return "\n".join(lines)

"""Scores of a classifier on labelled texts: macro-F1, accuracy, per label, confusion, speed."""

import time

from nlp.model import Classifier


def evaluate(classifier: Classifier, texts: list[str], labels: list[str]) -> dict:
    """Returns macro_f1, accuracy, per_label (precision, recall, f1, support), confusion and
    texts_per_second."""
    began = time.perf_counter()
    predicted = [label.theme for label in classifier.classify(texts)]
    elapsed = time.perf_counter() - began
    return score(labels, predicted) | {
        "texts_per_second": len(texts) / elapsed if elapsed else 0.0, "rows": len(texts)}


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

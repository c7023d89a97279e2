"""Calibration of theme scores: a temperature fitted on predictions for rows the model did not
see, and per-theme thresholds for the further themes an answer raises."""

import numpy as np
from scipy.optimize import minimize_scalar

from nlp.textcat import softmax

# Temperatures are searched in this range: beyond it the scores would say nothing (all equal)
# or everything (always 0 or 1).
TEMPERATURES = (0.05, 20.0)
# A further theme must be at least this likely, whatever the rows say: in the whole answer
# or in one of its parts, more likely than all the other themes together.
THRESHOLD_FLOOR = 0.5
# ... and a theme this likely in the answer or one of its parts always counts.
THRESHOLD_CEILING = 0.9
# Share of the answers about another theme that may still give a theme as a further one.
FALSE_SHARE = 0.02


def fit_temperature(logits: np.ndarray, target: np.ndarray) -> float:
    """Returns the temperature that minimises the log-loss of softmax(logits / T) on rows whose
    true label index is `target`."""
    rows = np.arange(len(target))

    def loss(log_temperature: float) -> float:
        probabilities = softmax(logits, float(np.exp(log_temperature)))
        return float(-np.log(probabilities[rows, target] + 1e-12).mean())

    low, high = np.log(TEMPERATURES)
    found = minimize_scalar(loss, bounds=(low, high), method="bounded",
                            options={"xatol": 1e-3})
    return float(np.exp(found.x))


def further_thresholds(probabilities: np.ndarray, target: np.ndarray,
                       labels: list[str]) -> dict[str, float]:
    """Returns, for each theme, the probability a further theme needs: the level that at most
    FALSE_SHARE of the rows about other themes reach, kept within the floor and ceiling."""
    thresholds = {}
    for index, label in enumerate(labels):
        others = probabilities[target != index, index]
        level = float(np.quantile(others, 1 - FALSE_SHARE)) if len(others) else THRESHOLD_CEILING
        thresholds[label] = round(min(max(level, THRESHOLD_FLOOR), THRESHOLD_CEILING), 3)
    return thresholds

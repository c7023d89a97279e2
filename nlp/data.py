"""Labelled examples: JSON Lines files and a stratified held-out slice."""

import json
import random
from collections import defaultdict
from pathlib import Path


class DataError(ValueError):
    """A training or evaluation file that cannot be read; the message says where."""


def read_jsonl(path: Path) -> tuple[list[str], list[str]]:
    """Reads `{"text": ..., "label": ...}` lines (extra keys ignored) into texts and labels."""
    texts, labels = [], []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"{path} : illisible ({error})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text, label = row["text"], row["label"]
        except (ValueError, KeyError, TypeError):
            raise DataError(f"{path}, ligne {number} : il faut un objet JSON avec "
                            "« text » et « label »") from None
        if not isinstance(text, str) or not isinstance(label, str) or not label:
            raise DataError(f"{path}, ligne {number} : « text » et « label » doivent être "
                            "des chaînes")
        texts.append(text)
        labels.append(label)
    if not texts:
        raise DataError(f"{path} ne contient aucun exemple")
    return texts, labels


def read_theme_lists(path: Path) -> list[list[str]]:
    """Reads every theme of each row of a file read_jsonl accepts: `labels` when a row raises
    several themes, the main `label` first, else `[label]`."""
    _, main = read_jsonl(path)
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()
            if line.strip()]
    themes = []
    for label, row in zip(main, rows, strict=True):
        extra = row.get("labels") if isinstance(row.get("labels"), list) else []
        themes.append([label] + [t for t in extra if isinstance(t, str) and t != label])
    return themes


def held_out(labels: list[str], fraction: float = 0.2, seed: int = 0) -> tuple[list[int],
                                                                                 list[int]]:
    """Splits row indices into (train, held out), the same share of each label in both; a
    label with fewer than 2 rows stays whole in training."""
    by_label: dict[str, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        by_label[label].append(index)
    rng = random.Random(seed)
    train, test = [], []
    for indices in by_label.values():
        rng.shuffle(indices)
        count = round(len(indices) * fraction) if len(indices) >= 2 else 0
        test += indices[:count]
        train += indices[count:]
    return sorted(train), sorted(test)

"""Reads a raw answer into the normalised value a question type expects."""

import re
from functools import lru_cache

from .flow import Choice, Question, QuestionType
from .territory import departement_of
from .text import fold, fold_words, read_integer

YES = frozenset({"oui", "o", "ouais", "ouai", "oue", "yes", "y", "ok", "okay", "d accord",
                 "daccord", "dac", "bien sur", "volontiers", "absolument", "exact", "1", "un",
                 "oui merci", "ok merci", "oui bien sur", "j accepte", "accepte", "si"})
NO = frozenset({"non", "n", "no", "nan", "nope", "pas du tout", "non merci", "2", "deux",
                "jamais", "je refuse", "refuse"})

_LIST_SEPARATORS = re.compile(r"\s*(?:,|;|/|\+|&|\bet\b|\n)\s*")


class Invalid(ValueError):
    """The answer cannot be read for this question; the message says why, in French."""


def read_answer(question: Question, raw: str) -> object:
    """Returns the normalised value of `raw`, or raises Invalid."""
    reader = _READERS[question.type]
    return reader(question, raw)


def _text(question: Question, raw: str) -> str:
    text = raw.strip()
    if not text:
        raise Invalid
    return text


def _yes_no(question: Question, raw: str) -> bool:
    words = fold_words(raw)
    if words in YES:
        return True
    if words in NO:
        return False
    raise Invalid


_ARTICLE = re.compile(r"^(?:le|la|les|l|un|une|des|du|de|d)\s+")


@lru_cache(maxsize=4096)
def _name(text: str) -> str:
    """Folds a label or an answer and drops a leading article: "Le prix" → "prix"."""
    return _ARTICLE.sub("", fold_words(text))


def match_choice(choices: tuple[Choice, ...], raw: str) -> Choice | None:
    """Finds the choice meant by a number, a label, a value or an alias."""
    number = read_integer(raw)
    if number is not None and 1 <= number <= len(choices):
        return choices[number - 1]
    # Out of range, a number may still be a label or an alias ("65", "2024").
    wanted = _name(raw)
    if not wanted:
        return None
    for choice in choices:
        names = {_name(choice.label), _name(choice.value.replace("_", " "))}
        names |= {_name(alias) for alias in choice.aliases}
        if wanted in names:
            return choice
    # "le prix" for "Le prix des billets": accept a unique prefix of whole words.
    starting = [c for c in choices if _name(c.label).startswith(wanted + " ")]
    if len(starting) == 1:
        return starting[0]
    return None


def _single_choice(question: Question, raw: str) -> str:
    choice = match_choice(question.choices, raw)
    if choice is None:
        raise Invalid
    return choice.value


def _multiple_choice(question: Question, raw: str) -> list[str]:
    whole = match_choice(question.choices, raw)
    if whole is not None:
        return [whole.value]
    folded = fold(raw)
    parts = [p for p in _LIST_SEPARATORS.split(folded) if p.strip()]
    if len(parts) == 1 and re.fullmatch(r"[\d\s]+", parts[0]):
        parts = parts[0].split()  # "1 3 4"
    picked: set[str] = set()
    for part in parts:
        choice = match_choice(question.choices, part)
        if choice is None:
            raise Invalid
        picked.add(choice.value)
    if not picked:
        raise Invalid
    if question.max_choices and len(picked) > question.max_choices:
        raise Invalid
    return [c.value for c in question.choices if c.value in picked]


def _bounded_integer(question: Question, raw: str) -> int:
    text = fold(raw)
    text = re.sub(r"\s*/\s*\d+$", "", text)  # "4/5"
    number = read_integer(text)
    if number is None:
        raise Invalid
    low, high = bounds(question)
    if (low is not None and number < low) or (high is not None and number > high):
        raise Invalid
    return number


def bounds(question: Question) -> tuple[int | None, int | None]:
    """Returns the allowed range of a scale or number question."""
    if question.type is QuestionType.SCALE:
        return (question.minimum or 1, question.maximum or 5)
    return (question.minimum, question.maximum)


def _postcode(question: Question, raw: str) -> str:
    departement = departement_of(raw.strip())
    if departement is None:
        raise Invalid
    return departement


_READERS = {
    QuestionType.TEXT: _text,
    QuestionType.YES_NO: _yes_no,
    QuestionType.SINGLE_CHOICE: _single_choice,
    QuestionType.MULTIPLE_CHOICE: _multiple_choice,
    QuestionType.SCALE: _bounded_integer,
    QuestionType.NUMBER: _bounded_integer,
    QuestionType.POSTCODE: _postcode,
}

"""Reads a raw answer into the normalised value a question type expects."""

import re
from difflib import SequenceMatcher
from functools import lru_cache

from . import communes, wording
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
    """The answer cannot be read for this question; the message says why, in French, and
    whether the question's usual hint should follow."""

    def __init__(self, reason: str = "", hint: bool = True) -> None:
        super().__init__(reason)
        self.hint = hint


def read_answer(question: Question, raw: str) -> object:
    """Returns the normalised value of `raw`, or raises Invalid."""
    reader = _READERS[question.type]
    return reader(question, raw)


def _text(question: Question, raw: str) -> str:
    text = raw.strip()
    if not text:
        raise Invalid
    return text


# A longer answer that starts with one of these says yes or no: "non pas le temps",
# "oui bien sûr", "ouais carrément".
YES_FIRST = frozenset({"oui", "ouais", "ouai", "yes", "ok", "okay", "daccord", "volontiers",
                       "absolument", "evidemment", "carrement", "bien sur"})
NO_FIRST = frozenset({"non", "nan", "no", "nope", "jamais", "pas du tout", "surement pas",
                      "certainement pas", "absolument pas"})


def yes_or_no(raw: str) -> bool | None:
    """Reads a yes or a no in the usual French ways; None when it is neither."""
    words = fold_words(raw)
    if words in YES:
        return True
    if words in NO:
        return False
    for first in (" ".join(words.split()[:3]), " ".join(words.split()[:2]),
                  words.split(" ", 1)[0]):
        if first in NO_FIRST:
            return False
        if first in YES_FIRST:
            return True
    return None


def _yes_no(question: Question, raw: str) -> bool:
    answer = yes_or_no(raw)
    if answer is None:
        raise Invalid
    return answer


_ARTICLE = re.compile(r"^(?:le|la|les|l|un|une|des|du|de|d)\s+")
SIMILAR = 0.84  # difflib ratio from which a name is taken for a label with a typo


@lru_cache(maxsize=4096)
def _name(text: str) -> str:
    """Folds a label or an answer and drops a leading article: "Le prix" → "prix"."""
    return _ARTICLE.sub("", fold_words(text))


@lru_cache(maxsize=4096)
def _singular(name: str) -> str:
    """Drops the plural marks of each word: "moins de retards" → "moin de retard"."""
    return " ".join(w[:-1] if len(w) > 3 and w[-1] in "sx" else w for w in name.split())


def _names(choice: Choice) -> set[str]:
    names = {_name(choice.label), _name(choice.value.replace("_", " "))}
    return {n for n in names | {_name(alias) for alias in choice.aliases} if n}


def _contains(text: str, name: str) -> bool:
    return f" {name} " in f" {text} "


def match_choice(choices: tuple[Choice, ...], raw: str, inside: bool = True) -> Choice | None:
    """Finds the choice meant by a number, a label, a value or an alias, written as it is, in
    the singular or plural, with a typo, or (`inside`) within a sentence ("je suis en
    apprentissage")."""
    number = read_integer(raw)
    if number is not None and 1 <= number <= len(choices):
        return choices[number - 1]
    # Out of range, a number may still be a label or an alias ("65", "2024").
    wanted = _name(raw)
    if not wanted:
        return None
    for choice in choices:
        if wanted in _names(choice):
            return choice
    # "le prix" for "Le prix des billets": accept a unique prefix of whole words.
    starting = [c for c in choices if _name(c.label).startswith(wanted + " ")]
    if len(starting) == 1:
        return starting[0]
    single = _singular(wanted)
    found = [c for c in choices if single in {_singular(n) for n in _names(c)}]
    if len(found) == 1:
        return found[0]
    # A name inside a sentence: the choice with the longest one, if no other has one as long.
    within = []
    if inside:
        for choice in choices:
            lengths = [len(n) for n in _names(choice) if _contains(single, _singular(n))]
            if lengths:
                within.append((max(lengths), choice))
        within.sort(key=lambda pair: -pair[0])
    if within and (len(within) == 1 or within[0][0] > within[1][0]):
        return within[0][1]
    # A typo: the closest name, when it is close and no other choice is as close.
    scored = sorted(((max(SequenceMatcher(None, single, _singular(n)).ratio()
                          for n in _names(c)), c) for c in choices), key=lambda p: -p[0])
    if scored and scored[0][0] >= SIMILAR and (len(scored) == 1
                                               or scored[0][0] - scored[1][0] > 0.05):
        return scored[0][1]
    return None


def _single_choice(question: Question, raw: str) -> str:
    choice = match_choice(question.choices, raw)
    if choice is None:
        raise Invalid
    return choice.value


def _multiple_choice(question: Question, raw: str) -> list[str]:
    # The whole answer as one choice, unless it merely holds one ("le train et le vélo").
    whole = match_choice(question.choices, raw, inside=False)
    if whole is not None:
        return [whole.value]
    folded = fold(raw)
    # Labels sent together (ticked boxes) are split on ";" alone: a label may hold "et".
    parts = [p for p in folded.split(";") if p.strip()] if ";" in folded else \
        [p for p in _LIST_SEPARATORS.split(folded) if p.strip()]
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
        raise Invalid(wording.TOO_MANY_CHOICES.format(maximum=question.max_choices,
                                                       given=len(picked)), hint=False)
    return [c.value for c in question.choices if c.value in picked]


_OUT_OF = re.compile(r"\s*(?:/|sur)\s*(?:\d+|[a-z]+)$")  # "4/5", "2 sur 5", "trois sur cinq"


def _bounded_integer(question: Question, raw: str) -> int:
    text = fold_words(fold(raw).replace("/", " sur "))
    text = re.sub(r"^(?:je (?:mets|donne|dirais)|note)\s+", "", text)  # "je mets 3"
    text = _OUT_OF.sub("", text)
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
    if departement is not None:
        return departement
    if re.search(r"\d", raw):  # digits that are no postcode: ask for the five digits
        raise Invalid
    # A commune's name instead: its département, or which one when several have that name.
    found = communes.named(raw)
    if not found:
        raise Invalid(wording.UNKNOWN_COMMUNE.format(name=raw.strip()[:40]))
    departements = {c.departement for c in found}
    if len(departements) == 1:
        return departements.pop()
    options = " ou ".join(f"{c.name} ({c.postcodes[0]})" for c in found[:4])
    raise Invalid(wording.AMBIGUOUS_COMMUNE.format(options=options))


_READERS = {
    QuestionType.TEXT: _text,
    QuestionType.YES_NO: _yes_no,
    QuestionType.SINGLE_CHOICE: _single_choice,
    QuestionType.MULTIPLE_CHOICE: _multiple_choice,
    QuestionType.SCALE: _bounded_integer,
    QuestionType.NUMBER: _bounded_integer,
    QuestionType.POSTCODE: _postcode,
}

"""Text folding and French number words used to read what people type, and numbers written
the French way for what they read."""

import re
import unicodedata
from functools import lru_cache

_PUNCTUATION = re.compile(r"[^\w\s]", re.UNICODE)
_SPACES = re.compile(r"\s+")

# People answer "deux" as often as "2"; ordinals too ("la première").
NUMBER_WORDS = {
    "zero": 0, "un": 1, "une": 1, "premier": 1, "premiere": 1, "deux": 2, "deuxieme": 2,
    "second": 2, "seconde": 2, "trois": 3, "troisieme": 3, "quatre": 4, "quatrieme": 4,
    "cinq": 5, "cinquieme": 5, "six": 6, "sixieme": 6, "sept": 7, "septieme": 7,
    "huit": 8, "huitieme": 8, "neuf": 9, "neuvieme": 9, "dix": 10, "dixieme": 10,
    "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16,
    "dix-sept": 17, "dix-huit": 18, "dix-neuf": 19, "vingt": 20,
}


def strip_accents(text: str) -> str:
    """Returns the text without diacritics."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str) -> str:
    """Returns a lowercase, accent-free, single-spaced form for comparisons."""
    text = strip_accents(text).replace("’", "'").lower()
    text = text.replace("œ", "oe").replace("æ", "ae")
    return _SPACES.sub(" ", text).strip()


@lru_cache(maxsize=4096)  # labels and keywords are folded again at every turn
def fold_words(text: str) -> str:
    """Returns the folded text with punctuation removed, for whole-message keywords."""
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", fold(text))).strip()


def read_integer(text: str) -> int | None:
    """Reads a whole number written with digits or as a French word, or returns None."""
    words = fold_words(text.replace("-", "_")).replace("_", "-")
    words = re.sub(r"^(n ?o?|numero|num|le|la|l)\s+", "", words)
    if re.fullmatch(r"-?\d{1,9}", words.replace(" ", "")):
        return int(words.replace(" ", ""))
    return NUMBER_WORDS.get(words)


def french_number(value: float) -> str:
    """Writes a measured value the French way: 12,5 or 80."""
    text = f"{value:,.1f}".replace(",", "\u202f").replace(".", ",")
    return text.removesuffix(",0")

"""The communes of Hauts-de-France by name, so that "Amiens" answers a postcode question.

The list ships as a data file beside this module (INSEE's official geographic code with La
Poste's postcodes, Licence Ouverte), read once, on the first name to look up.
"""

import re
from dataclasses import dataclass
from difflib import SequenceMatcher, get_close_matches
from functools import cache
from importlib import resources

from .text import fold_words

DATA = "data/communes-hauts-de-france.tsv"
CLOSE = 0.88  # a name this close to one commune's is taken for it ("Amien", "Abeville")
_SAINT = re.compile(r"\b(?:st|ste)\b")


@dataclass(frozen=True)
class Commune:
    """One commune: its INSEE code, name, département and postcodes."""

    code: str
    name: str
    departement: str
    postcodes: tuple[str, ...]
    population: int


def key(name: str) -> str:
    """Returns the form names are compared in: folded, hyphens as spaces, "St" as "saint"."""
    folded = fold_words(name.replace("-", " ").replace("'", " "))
    folded = _SAINT.sub(lambda m: "saint" if m[0] == "st" else "sainte", folded)
    return re.sub(r"^(?:a|au|a la|en|sur|de|je (?:suis|vis|habite) (?:a|au|en))\s+", "",
                  folded)


@cache
def _index() -> dict[str, tuple[Commune, ...]]:
    found: dict[str, list[Commune]] = {}
    text = resources.files(__package__).joinpath(DATA).read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        code, name, departement, postcodes, population = line.split("\t")
        commune = Commune(code, name, departement, tuple(postcodes.split(",")),
                          int(population or 0))
        found.setdefault(key(name), []).append(commune)
    # Homonyms, the most populous first: the one people most likely mean leads the question.
    return {k: tuple(sorted(v, key=lambda c: -c.population)) for k, v in found.items()}


def named(text: str) -> tuple[Commune, ...]:
    """Returns the communes of the region with this name (several for homonyms), allowing a
    small typo; none when nothing is close."""
    wanted = key(text)
    index = _index()
    if wanted in index:
        return index[wanted]
    close = get_close_matches(wanted, index, n=2, cutoff=CLOSE)
    # Two names about as close ("Boves" or "Bove"?) is no answer: ask again.
    if len(close) == 1 or (close and SequenceMatcher(None, wanted, close[0]).ratio()
                           > SequenceMatcher(None, wanted, close[1]).ratio() + 0.03):
        return index[close[0]]
    return ()

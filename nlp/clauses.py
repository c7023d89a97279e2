"""The parts of an answer that may each raise a subject: sentences, items of a list, clauses
joined by "et", "mais", "ou"..."""

import re

# Punctuation that ends a sentence or an item, and the words that join two subjects.
_BOUNDARY = re.compile(
    r"[.;:!?\n,()]+|\s[-+&/]\s|\s(?:et|mais|ou|puis|ni|aussi|ainsi que|sans oublier|"
    r"sans parler de|en plus|et puis)\s", re.IGNORECASE)
# A part needs one word of three letters or more to say anything on its own.
_WORD = re.compile(r"[^\W\d_]{3,}")


def clauses(text: str) -> list[str]:
    """Returns the parts of a text that have a word of their own, in order; a text of one part
    gives an empty list (the whole text is that part)."""
    parts = [part.strip() for part in _BOUNDARY.split(text)]
    parts = [part for part in parts if _WORD.search(part)]
    return parts if len(parts) > 1 else []

"""SMS and chat spellings rewritten in standard French, before themes are sorted or counted;
letters without their accents, as people often type them."""

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

LEXICON = Path(__file__).parent / "data" / "sms_lexicon.tsv"
# Texts of a batch are joined by this character: it is no word character, so no replacement
# spans two texts, and one regular-expression pass serves the whole batch.
_SEPARATOR = "\x1e"
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_REPEATED_LETTER = re.compile(r"([^\W\d_])\1{2,}")  # "trooop": no French word has three in a row
_REPEATED_MARK = re.compile(r"([!?])\1+")
# Elided words before an apostrophe: the word after it is looked up alone (l'appart, d'taf).
_ELIDED = {"l", "d", "j", "m", "t", "s", "c", "n", "qu", "jusqu", "lorsqu", "puisqu"}


def _without_diacritics(char: str) -> str:
    """Returns a character's decomposition without its combining marks."""
    return "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))


# Latin letters with diacritics (À to ɏ) mapped to their bare letters, for str.translate.
_BARE = {code: _without_diacritics(chr(code)) for code in range(0xC0, 0x250)
         if _without_diacritics(chr(code)) != chr(code)}


def fold_accents(text: str) -> str:
    """Returns a text without diacritics on Latin letters ("très" → "tres"), as people often
    type it."""
    return text if text.isascii() else text.translate(_BARE)


class LexiconError(ValueError):
    """A lexicon file that cannot be read; the message says where."""


def read_lexicon(path: Path = LEXICON) -> dict[str, str]:
    """Reads `written form<TAB>standard form` lines (`#` starts a comment) into a dict."""
    lexicon = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        written, _, standard = line.partition("\t")
        if not written.strip() or not standard.strip() or "\t" in standard:
            raise LexiconError(f"{path}, ligne {number} : il faut « forme<TAB>forme standard »")
        lexicon[written.strip().lower().replace("’", "'")] = standard.strip()
    return lexicon


class Normaliser:
    """Rewrites the spellings of a lexicon into their standard forms, whole words only."""

    def __init__(self, lexicon: dict[str, str]) -> None:
        self.lexicon = {written.lower(): standard for written, standard in lexicon.items()}

    def __call__(self, text: str) -> str:
        """Returns one text normalised."""
        return self.many([text])[0]

    def many(self, texts: list[str]) -> list[str]:
        """Returns each text normalised, in one pass over the whole batch."""
        if not texts:
            return []
        # A text all in capitals is lowered first; elsewhere a word in capitals is an acronym
        # (CC, PR, DS) and stays as written.
        prepared = [(t.lower() if t.isupper() else t).replace(_SEPARATOR, " ") for t in texts]
        joined = _SEPARATOR.join(prepared)
        joined = _REPEATED_MARK.sub(r"\1", _REPEATED_LETTER.sub(r"\1", joined.replace("’", "'")))
        return _WORD.sub(self._replace, joined).split(_SEPARATOR)

    def _replace(self, match: re.Match) -> str:
        word = match.group(0)
        if len(word) > 1 and word.isupper():
            return word
        standard = self.lexicon.get(word.lower())
        if standard is not None:
            return standard
        head, apostrophe, tail = word.partition("'")
        if apostrophe and head.lower() in _ELIDED:
            standard = self.lexicon.get(tail.lower())
            if standard is not None and not (len(tail) > 1 and tail.isupper()):
                return f"{head}'{standard}"
        return word


@lru_cache(maxsize=1)
def default_normaliser() -> Normaliser:
    """The normaliser of the lexicon shipped with Relais, read once."""
    return Normaliser(read_lexicon())


def normalise(text: str) -> str:
    """Returns a text with SMS spellings in standard French ("tjrs en retar" → "toujours en
    retard"), with the shipped lexicon."""
    return default_normaliser()(text)


def normalise_many(texts: list[str]) -> list[str]:
    """Returns texts normalised with the shipped lexicon, in one pass."""
    return default_normaliser().many(texts)

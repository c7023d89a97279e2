"""GSM-7 normalisation, detection and SMS segment counting for outgoing text."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# GSM 03.38 basic table in code-point order, 0x00 to 0x7F; 0x1B (escape) is left out because
# it only announces an extension character and never stands for text of its own.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039eÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)

# Extension table: each character is sent as escape + code, so it costs two septets.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_CHARSET = GSM7_BASIC | GSM7_EXTENSION

_GSM7_SINGLE_SEPTETS = 160
_GSM7_SEGMENT_SEPTETS = 153  # 7 septets go to the concatenation header
_UCS2_SINGLE_UNITS = 70
_UCS2_SEGMENT_UNITS = 67  # 3 code units go to the concatenation header

# Every Unicode space separator (category Zs) other than the plain space, so French
# typography's thin and non-breaking spaces (before ; : ! ? and inside « ») do not force UCS-2.
_SPACE_SEPARATORS = (
    "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u202f\u205f\u3000"
)
_SPACES = str.maketrans(dict.fromkeys(_SPACE_SEPARATORS, " "))

# A pair of guillemets, with the spaces French puts inside them, so « oui » becomes "oui";
# an unpaired guillemet is only translated, since it may be an arrow rather than a quote.
_DOUBLE_GUILLEMETS = re.compile(r"« *([^«»]*?) *»")
_SINGLE_GUILLEMETS = re.compile(r"‹ *([^‹›]*?) *›")

# Characters outside GSM-7 that have a GSM-7 spelling with the same meaning; every key is
# outside GSM7_CHARSET (checked by the tests), so text already in GSM-7 is never altered.
_REPLACEMENTS = str.maketrans(
    {
        # Apostrophes and single quotes, including the modifier letter some keyboards type.
        "’": "'",
        "‘": "'",
        "‚": "'",
        "‛": "'",
        "ʼ": "'",
        "´": "'",
        "`": "'",
        "‹": "'",
        "›": "'",
        # Double quotes.
        "“": '"',
        "”": '"',
        "„": '"',
        "‟": '"',
        "«": '"',
        "»": '"',
        # Ligatures outside GSM-7 (Æ and æ are in the basic table and stay).
        "œ": "oe",
        "Œ": "OE",
        # Hyphens, dashes and the minus sign.
        "‐": "-",
        "‑": "-",
        "‒": "-",
        "–": "-",
        "—": "-",
        "―": "-",
        "−": "-",
        "…": "...",
        "•": "-",
        # The point médian of French inclusive writing has the full stop as its usual fallback.
        "·": ".",
        # Invisible characters that carry no meaning in a text message.
        "\u200b": None,  # zero width space
        "\u2060": None,  # word joiner
        "\ufeff": None,  # zero width no-break space (byte order mark)
        "\u00ad": None,  # soft hyphen
        # Accented letters outside the basic table, mapped to the closest GSM-7 letter;
        # è é ù ì ò à ä ö ñ ü Ä Ö Ñ Ü Å å Ø ø Ç É are in the table and stay.
        "À": "A",
        "Á": "A",
        "Â": "A",
        "Ã": "A",
        "È": "E",
        "Ê": "E",
        "Ë": "E",
        "Ì": "I",
        "Í": "I",
        "Î": "I",
        "Ï": "I",
        "Ò": "O",
        "Ó": "O",
        "Ô": "O",
        "Õ": "O",
        "Ù": "U",
        "Ú": "U",
        "Û": "U",
        "Ý": "Y",
        "Ÿ": "Y",
        "á": "a",
        "â": "a",
        "ã": "a",
        "ç": "c",
        "ê": "e",
        "ë": "e",
        "í": "i",
        "î": "i",
        "ï": "i",
        "ó": "o",
        "ô": "o",
        "õ": "o",
        "ú": "u",
        "û": "u",
        "ý": "y",
        "ÿ": "y",
    }
)

# Zero width (non-)joiners also glue emoji sequences and shape some scripts, so they are only
# dropped after a GSM-7 character, where they can do nothing but force UCS-2.
_JOINERS = frozenset("\u200c\u200d")


@dataclass(frozen=True, slots=True)
class Segments:
    """How a text is encoded for SMS and how many messages it is billed as."""

    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7 (extension characters count 2), UTF-16 code units for UCS-2
    count: int  # number of SMS segments


def is_gsm7(text: str) -> bool:
    """Tell whether every character of text is in the GSM 03.38 basic or extension table."""
    return all(char in GSM7_CHARSET for char in text)


def normalise(text: str) -> str:
    """Rewrite typographic characters and foreign accents as GSM-7 where the meaning is kept."""
    if is_gsm7(text):
        return text
    # Composing first turns a decomposed é (e + combining accent) into the GSM-7 é.
    text = unicodedata.normalize("NFC", text).translate(_SPACES)
    text = _DOUBLE_GUILLEMETS.sub(r"«\1»", text)
    text = _SINGLE_GUILLEMETS.sub(r"‹\1›", text)
    text = text.translate(_REPLACEMENTS)
    if not _JOINERS.intersection(text):
        return text
    kept: list[str] = []
    for char in text:
        if char in _JOINERS and (not kept or kept[-1] in GSM7_CHARSET):
            continue
        kept.append(char)
    return "".join(kept)


def segments(text: str) -> Segments:
    """Count the encoding units and SMS segments that text needs as it stands."""
    if is_gsm7(text):
        sizes = [2 if char in GSM7_EXTENSION else 1 for char in text]
        return Segments(
            "GSM-7", sum(sizes), _count(sizes, _GSM7_SINGLE_SEPTETS, _GSM7_SEGMENT_SEPTETS)
        )
    # Characters beyond the BMP take a surrogate pair, which must stay in one segment.
    sizes = [2 if ord(char) > 0xFFFF else 1 for char in text]
    return Segments("UCS-2", sum(sizes), _count(sizes, _UCS2_SINGLE_UNITS, _UCS2_SEGMENT_UNITS))


def _count(sizes: list[int], single: int, per_segment: int) -> int:
    """Pack indivisible unit sizes greedily into segments and return how many are used."""
    if sum(sizes) <= single:
        return 1
    count, used = 1, 0
    for size in sizes:
        if used + size > per_segment:
            count, used = count + 1, 0
        used += size
    return count


def split(text: str) -> list[str]:
    """Returns the text as the parts a phone receives, one per SMS segment, cut where the
    operator cuts (so a person sees where each SMS ends)."""
    gsm = is_gsm7(text)
    sizes = [(2 if char in GSM7_EXTENSION else 1) if gsm else (2 if ord(char) > 0xFFFF else 1)
             for char in text]
    single, per_segment = (_GSM7_SINGLE_SEPTETS, _GSM7_SEGMENT_SEPTETS) if gsm else \
        (_UCS2_SINGLE_UNITS, _UCS2_SEGMENT_UNITS)
    if sum(sizes) <= single:
        return [text]
    parts, current, used = [], [], 0
    for char, size in zip(text, sizes, strict=True):
        if used + size > per_segment:
            parts.append("".join(current))
            current, used = [], 0
        current.append(char)
        used += size
    parts.append("".join(current))
    return parts

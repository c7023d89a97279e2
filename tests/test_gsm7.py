"""Tests for GSM-7 normalisation, detection and SMS segment counting."""

import unicodedata

import pytest

from bot.gsm7 import Segments, is_gsm7, normalise, segments

# The whole GSM 03.38 basic table except escape, typed out again here so that a wrong
# character in the module's own table shows up.
GSM7_BASIC_TEXT = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION_TEXT = "\f^{}\\[~]|€"

FRENCH_LONG = (
    "Bonjour\u00a0! L’enquête «\u00a0Mobilité\u00a0» de la Région commence aujourd’hui. "
    "Répondez OUI ou NON à chaque question, ou envoyez STOP pour ne plus rien recevoir. "
    "Vos réponses restent anonymes et sont effacées au bout d’un an. "
    "Merci pour votre cœur à l’ouvrage\u202f!"
)
FRENCH_LONG_GSM = (
    "Bonjour ! L'enquete \"Mobilité\" de la Région commence aujourd'hui. "
    "Répondez OUI ou NON à chaque question, ou envoyez STOP pour ne plus rien recevoir. "
    "Vos réponses restent anonymes et sont effacées au bout d'un an. "
    "Merci pour votre coeur à l'ouvrage !"
)
FRENCH_SHORT = (
    "Merci\u00a0! Votre réponse «\u00a0oui\u00a0» est enregistrée pour l’œuvre commune. "
    "Répondez STOP pour arrêter."
)
FRENCH_SHORT_GSM = (
    'Merci ! Votre réponse "oui" est enregistrée pour l\'oeuvre commune. '
    "Répondez STOP pour arreter."
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", Segments("GSM-7", 0, 1), id="empty"),
        pytest.param("a" * 160, Segments("GSM-7", 160, 1), id="gsm-160"),
        pytest.param("a" * 161, Segments("GSM-7", 161, 2), id="gsm-161"),
        pytest.param("a" * 306, Segments("GSM-7", 306, 2), id="gsm-306"),
        pytest.param("a" * 307, Segments("GSM-7", 307, 3), id="gsm-307"),
        pytest.param("€", Segments("GSM-7", 2, 1), id="euro-two-septets"),
        pytest.param("a" * 159 + "€", Segments("GSM-7", 161, 2), id="euro-tips-over-160"),
        pytest.param("a\f{}", Segments("GSM-7", 7, 1), id="form-feed-and-braces"),
        # 152 + 2 would straddle the 153-septet boundary, so the euro opens segment two.
        pytest.param("a" * 152 + "€" + "a" * 152, Segments("GSM-7", 306, 3), id="euro-not-split"),
        pytest.param("a" * 153 + "€" + "a" * 151, Segments("GSM-7", 306, 2), id="euro-on-boundary"),
        pytest.param("Ж" * 70, Segments("UCS-2", 70, 1), id="ucs2-70"),
        pytest.param("Ж" * 71, Segments("UCS-2", 71, 2), id="ucs2-71"),
        pytest.param("Ж" * 134, Segments("UCS-2", 134, 2), id="ucs2-134"),
        pytest.param("Ж" * 135, Segments("UCS-2", 135, 3), id="ucs2-135"),
        pytest.param("😀" * 35, Segments("UCS-2", 70, 1), id="emoji-surrogate-pairs"),
        # 66 + 2 would straddle the 67-unit boundary, so the emoji opens segment two.
        pytest.param("Ж" * 66 + "😀" + "Ж" * 66, Segments("UCS-2", 134, 3), id="pair-not-split"),
        # One character outside GSM-7 turns the whole text UCS-2, where € is one unit.
        pytest.param("€" * 69 + "œ", Segments("UCS-2", 70, 1), id="euro-in-ucs2"),
    ],
)
def test_segments(text: str, expected: Segments) -> None:
    assert segments(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(GSM7_BASIC_TEXT, True, id="basic-table"),
        pytest.param(GSM7_EXTENSION_TEXT, True, id="extension-table"),
        pytest.param("ç", False, id="lowercase-c-cedilla"),
        pytest.param("ê", False, id="e-circumflex"),
        pytest.param("`", False, id="backtick"),
        pytest.param("\x1b", False, id="bare-escape"),
        pytest.param("cœur", False, id="oe-ligature"),
    ],
)
def test_is_gsm7(text: str, expected: bool) -> None:
    assert is_gsm7(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("«\u00a0Oui\u00a0», dit-il", '"Oui", dit-il', id="guillemets-nbsp"),
        pytest.param("L’avis d’‹\u202fexpert\u202f›", "L'avis d''expert'", id="apostrophes"),
        pytest.param("“Cœur” ŒUVRE", '"Coeur" OEUVRE', id="quotes-and-oe"),
        pytest.param("A – B — C −2…\n• x", "A - B - C -2...\n- x", id="dashes-ellipsis-bullet"),
        pytest.param(
            "fête maïs île hôtel sûr âge ça", "fete mais ile hotel sur age ca", id="lowercase"
        ),
        pytest.param("ÊTRE À ÈVE ÎLE ÔTER ÙÛ", "ETRE A EVE ILE OTER UU", id="uppercase"),
        pytest.param("é è ù ì ò à Ç É Æ æ ’", "é è ù ì ò à Ç É Æ æ '", id="gsm-letters-kept"),
        pytest.param("ze\u0301ro\u200bsoft\u00adstop", "zérosoftstop", id="nfc-zero-width"),
        pytest.param("citoyen·ne·s", "citoyen.ne.s", id="point-median"),
        pytest.param("Bravo\u202f! 👍", "Bravo ! 👍", id="emoji-left-alone"),
        pytest.param("👩\u200d🚀 a\u200db", "👩\u200d🚀 ab", id="joiner-kept-in-emoji"),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected
    assert normalise(expected) == expected


def test_normalise_keeps_every_gsm7_character() -> None:
    # The trailing apostrophe sends the text through the full rewrite, not the early return.
    text = GSM7_BASIC_TEXT + GSM7_EXTENSION_TEXT
    assert normalise(text + "’") == text + "'"


def test_normalise_turns_every_unicode_space_into_a_space() -> None:
    spaces = [chr(cp) for cp in range(0x10000) if unicodedata.category(chr(cp)) == "Zs"]
    assert normalise("".join(spaces)) == " " * len(spaces)


@pytest.mark.parametrize(
    ("text", "expected", "before", "after"),
    [
        pytest.param(
            FRENCH_LONG,
            FRENCH_LONG_GSM,
            Segments("UCS-2", 250, 4),
            Segments("GSM-7", 249, 2),
            id="four-ucs2-to-two-gsm7",
        ),
        pytest.param(
            FRENCH_SHORT,
            FRENCH_SHORT_GSM,
            Segments("UCS-2", 95, 2),
            Segments("GSM-7", 94, 1),
            id="two-ucs2-to-one-gsm7",
        ),
    ],
)
def test_french_message_drops_to_gsm7(
    text: str, expected: str, before: Segments, after: Segments
) -> None:
    assert segments(text) == before
    assert normalise(text) == expected
    assert segments(expected) == after

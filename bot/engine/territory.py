"""Maps a French postcode to a département of Hauts-de-France."""

import re

REGION_DEPARTEMENTS = {
    "02": "Aisne",
    "59": "Nord",
    "60": "Oise",
    "62": "Pas-de-Calais",
    "80": "Somme",
}
OUTSIDE_REGION = "hors_region"

_POSTCODE = re.compile(r"\d{5}")


def departement_of(text: str) -> str | None:
    """Returns the département code, OUTSIDE_REGION, or None when the text is no postcode."""
    digits = re.sub(r"[\s.]", "", text)
    if not _POSTCODE.fullmatch(digits) or not 1000 <= int(digits) <= 98999:
        return None
    code = digits[:2]
    return code if code in REGION_DEPARTEMENTS else OUTSIDE_REGION

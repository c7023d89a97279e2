"""Filters of the admin view, read from and written back to the URL so a view can be shared."""

from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from multidict import MultiMapping

from admin.consultations import CHANNELS, DEPARTEMENTS, PARIS, TRIAL_CHANNELS, Consultation
from admin.ids import parse_id
from storage.answer_queries import AnswerFilter

KEYS = ("theme", "territoire", "association", "canal", "du", "au", "confiance_min",
        "confiance_max", "essais", "ecartees", "q")
MAX_SEARCH = 200
TRIALS = "essais"  # =1: count the trial conversations (simulator, terminal) too
SET_ASIDE = "ecartees"  # =1: show the answers officials set aside too


class Invalid(ValueError):
    """A filter value that makes no sense; its message is the French reason (the admin view
    answers it with 400)."""


def parse(query: MultiMapping[str], consultation: Consultation,
          question_id: str | None = None,
          association_ids: tuple[int, ...] | None = None) -> AnswerFilter:
    """Reads the filters of a URL; raises Invalid with a French reason on a value that makes no
    sense. `association_ids`, when given, is forced (an association sees only its own)."""
    themes = _known(query.getall("theme", []), consultation.theme_labels, "thème")
    territories = _known(query.getall("territoire", []), DEPARTEMENTS, "territoire")
    channels = _known(query.getall("canal", []), CHANNELS, "canal")
    values = [v for v in query.getall("association", []) if v]
    associations = tuple(parse_id(v) for v in values)
    if None in associations:
        raise Invalid("Association invalide dans les filtres.")
    if association_ids is not None:
        associations = association_ids
    since = _day(query.get("du"), "du")
    until = _day(query.get("au"), "au")
    if since and until and until < since:
        raise Invalid("La date de fin précède la date de début.")
    min_score = _share(query.get("confiance_min"), "confiance_min")
    max_score = _share(query.get("confiance_max"), "confiance_max")
    if min_score is not None and max_score is not None and max_score < min_score:
        raise Invalid("La confiance maximale est inférieure à la minimale.")
    return AnswerFilter(
        consultation_id=consultation.id, question_id=question_id, themes=themes,
        territories=territories, association_ids=associations, channels=channels,
        since=_start_of(since), until=_start_of(until + timedelta(days=1)) if until else None,
        min_score=min_score, max_score=max_score, hidden_channels=hidden_channels(query),
        with_set_aside=_switch(query, SET_ASIDE), search=_search(query))


def _search(query: MultiMapping[str]) -> str:
    value = query.get("q", "").strip()
    if len(value) > MAX_SEARCH:
        raise Invalid(f"Recherche trop longue : {MAX_SEARCH} caractères au plus.")
    return value


def hidden_channels(query: MultiMapping[str]) -> tuple[str, ...]:
    """Returns the channels whose conversations are left out of the figures: the trials,
    unless the URL asks for them."""
    return () if _switch(query, TRIALS) else TRIAL_CHANNELS


def _switch(query: MultiMapping[str], key: str) -> bool:
    value = query.get(key, "")
    if value not in ("", "0", "1"):
        raise Invalid(f"« {key} » vaut 0 ou 1.")
    return value == "1"


def chosen(query: MultiMapping[str]) -> dict[str, list[str]]:
    """Returns the filter values of a URL per key, to show them selected in the form."""
    return {key: [v for v in query.getall(key, []) if v] for key in KEYS}


def _known(values: list[str], allowed, name: str) -> tuple[str, ...]:
    values = [v for v in values if v]
    for value in values:
        if value not in allowed:
            raise Invalid(f"Valeur inconnue pour le filtre {name}.")
    return tuple(values)


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(f"Date invalide pour « {name} » : attendu AAAA-MM-JJ.") from None


def _start_of(day: date | None) -> datetime | None:
    """Returns midnight in Paris of a day, in UTC."""
    if day is None:
        return None
    return datetime.combine(day, time(), PARIS).astimezone(UTC)


def _share(value: str | None, name: str) -> float | None:
    """Reads a confidence given in percent (0 to 100)."""
    if not value:
        return None
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        raise Invalid(f"Nombre invalide pour « {name} ».") from None
    if not 0 <= number <= 100:  # also refuses nan
        raise Invalid(f"« {name} » va de 0 à 100.")
    return number / 100


def query_string(query: MultiMapping[str], **changes: str | None) -> str:
    """Returns the filters of a URL as a query string, with some keys changed or removed."""
    pairs = [(k, v) for k, v in query.items() if k in KEYS and k not in changes and v]
    pairs += [(k, v) for k, v in changes.items() if v is not None]
    return urlencode(pairs)


def page_number(query: MultiMapping[str]) -> int:
    """Reads the page number of a paginated list (1 when absent)."""
    number = parse_id(query.get("page", "1"))  # ASCII digits only: not "٣"
    if number is None or number > 100_000:
        raise Invalid("Numéro de page invalide.")
    return number

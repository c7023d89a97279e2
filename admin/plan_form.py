"""An action as the plan's forms send it: read into fields, with what is wrong in French."""

from datetime import date

from multidict import MultiDictProxy

from admin.consultations import Consultation
from admin.ids import parse_id
from storage import plan

MAX_DESCRIPTION = 5000
MAX_COMMENT = 2000


def _number(value: str, name: str, errors: list[str]) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        errors.append(f"{name} : un nombre entier")
        return None


def _day(value: str, name: str, errors: list[str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(f"{name} : une date AAAA-MM-JJ")
        return None


def read(form: MultiDictProxy, consultations: dict[str, Consultation],
         associations: dict[int, str]) -> tuple[plan.Fields, list[str]]:
    """Returns the fields of a create or edit form, and the problems only the form can have
    (the rest is plan.problems)."""
    errors: list[str] = []
    consultation = str(form.get("consultation", "")) or None
    themes = []
    for value in form.getall("themes", []):
        owner, _, theme = str(value).partition(":")
        if owner != consultation:
            errors.append(f"thème « {theme} » d'une autre consultation que celle de l'action")
        else:
            themes.append(theme)
    owner_association = parse_id(str(form.get("porteur_association", "")))
    if form.get("porteur_association") and owner_association not in associations:
        errors.append("association porteuse inconnue")
    description = str(form.get("description", "")).strip()
    if len(description) > MAX_DESCRIPTION:
        errors.append(f"description de plus de {MAX_DESCRIPTION} caractères")
    parent = str(form.get("parent", ""))
    weight = _number(str(form.get("poids", "")).strip(), "poids", errors)
    values = plan.Fields(
        title=str(form.get("titre", "")).strip(), description=description,
        owner=str(form.get("porteur", "")).strip()[:200],
        owner_association_id=owner_association if owner_association in associations else None,
        status=str(form.get("statut", plan.ACCEPTED_STATUS)),
        progress=_number(str(form.get("avancement", "")).strip(), "avancement", errors),
        weight=1 if weight is None else weight,
        starts_on=_day(str(form.get("debut", "")).strip(), "début", errors),
        ends_on=_day(str(form.get("fin", "")).strip(), "fin", errors),
        public=form.get("public") == "oui", consultation_id=consultation,
        parent_id=parse_id(parent) if parent else None, themes=tuple(themes))
    if parent and values.parent_id is None:
        errors.append("parent inconnu")
    return values, errors


def theme_sets(consultations: dict[str, Consultation]) -> dict[str, set[str]]:
    """Returns each consultation's theme ids, as plan.problems takes them."""
    return {key: set(c.theme_labels) for key, c in consultations.items()}

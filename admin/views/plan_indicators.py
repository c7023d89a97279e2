"""The plan's follow-up indicators: definitions, measurements entered by officials and
associations, validation by officials, history against the target."""

from dataclasses import dataclass
from datetime import date

from aiohttp import web
from markupsafe import Markup

from admin import auth, consultations, indicator_chart
from admin.ids import id_or_404
from admin.pages import config, render
from bot.engine.text import french_number
from storage import audit, plan_indicators
from storage.plan_indicators import KINDS, LEVELS, METHODS
from storage.plan_tables import Indicator, Measurement

routes = web.RouteTableDef()

MAX_TEXT = 2000


@dataclass(frozen=True)
class Card:
    """An indicator with its measurements and chart, as the page shows it."""

    indicator: Indicator
    measurements: list[Measurement]
    chart: Markup | None
    latest: Measurement | None


def _float(value: str, name: str, errors: list[str]) -> float | None:
    value = value.strip().replace(",", ".")
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        errors.append(f"{name} : un nombre")
        return None
    if number != number or abs(number) > 1e12:  # NaN or absurd
        errors.append(f"{name} : un nombre")
        return None
    return number


async def cards(tx, consultation_id: str | None = None, *,
                validated_only: bool = False) -> list[Card]:
    """Returns each indicator with its measurements, oldest first, and its chart."""
    rows = await plan_indicators.indicators(tx, consultation_id)
    found = await plan_indicators.measurements(tx, [row.id for row in rows],
                                               validated_only=validated_only)
    result = []
    for row in rows:
        measured = found.get(row.id, [])
        points = [(m.on.strftime("%d/%m/%Y"), m.value) for m in measured
                  if m.value is not None]
        chart = indicator_chart.history(f"{row.name} au fil du temps", points, row.target,
                                        row.unit) if points else None
        result.append(Card(row, measured, chart, measured[-1] if measured else None))
    return result


def by_whom(actor: str | None) -> str:
    """Names who entered or validated a measurement by role, never by e-mail."""
    if not actor:
        return "—"
    role = actor.split(":", 1)[0]
    return {"system": "Relais", "official": "la Région",
            "association": "une association"}.get(role, "—")


@routes.get("/plan/indicateurs")
@auth.requires("official", "association")
async def page(request: web.Request) -> web.StreamResponse:
    """Shows every indicator with its history against the target."""
    return await _render(request)


async def _render(request: web.Request, *, errors: list[str] | None = None,
                  status: int = 200) -> web.StreamResponse:
    found = {c.id: c for c in await consultations.all_consultations(request)}
    async with config(request).db.read() as tx:
        shown = await cards(tx)
    return render(request, "plan_indicateurs.html", {
        "cards": shown, "consultations": found, "levels": LEVELS, "kinds": KINDS,
        "methods": {k: v for k, v in METHODS.items() if k != "calcule"},
        "all_methods": METHODS, "errors": errors or [], "by_whom": by_whom,
        "number": french_number,
        "flash": next((key for key in ("defini", "mesure", "valide") if key in request.query),
                      None)}, status=status)


@routes.post("/plan/indicateurs")
@auth.requires("official")
async def define(request: web.Request) -> web.StreamResponse:
    """Adds an indicator measured by people (survey, interview, testimony…)."""
    form = await request.post()
    errors: list[str] = []
    values = plan_indicators.Definition(
        name=str(form.get("nom", "")).strip(), question=str(form.get("question", "")).strip(),
        level=str(form.get("niveau", "")), kind=str(form.get("type", "")),
        definition=str(form.get("definition", "")).strip()[:MAX_TEXT],
        method=str(form.get("methode", "")), source=str(form.get("source", "")).strip(),
        collector=str(form.get("collecte", "")).strip(),
        validator=str(form.get("validation", "")).strip(),
        baseline=_float(str(form.get("reference", "")), "valeur de référence", errors),
        target=_float(str(form.get("cible", "")), "cible", errors),
        unit=str(form.get("unite", "")).strip(),
        frequency=str(form.get("frequence", "")).strip(),
        consultation_id=str(form.get("consultation", "")) or None)
    found = {c.id for c in await consultations.all_consultations(request)}
    errors += plan_indicators.problems(values, found)
    if errors:
        return await _render(request, errors=errors, status=400)
    settings, user = config(request), auth.current_user(request)
    async with settings.db.transaction() as tx:
        row = plan_indicators.define(tx, values, settings.clock())
        await tx.flush()
        audit.record(tx, actor=user.actor, action="plan.indicator_defined",
                     target=f"indicateur:{row.id}", at=settings.clock())
    return auth.see_other("/admin/plan/indicateurs?defini=1")


@routes.post("/plan/indicateurs/{indicator_id}/mesures")
@auth.requires("official", "association")
async def measure(request: web.Request) -> web.StreamResponse:
    """Records a measurement of an indicator people measure; an official validates it."""
    indicator_id = id_or_404(request.match_info["indicator_id"])
    settings = config(request)
    async with settings.db.read() as tx:
        row = await plan_indicators.indicator(tx, indicator_id)
    if row is None:
        raise web.HTTPNotFound(text="Indicateur inconnu.")
    form = await request.post()
    errors: list[str] = []
    if row.computed:
        errors.append("Cet indicateur est mesuré par Relais chaque jour.")
    try:
        on = date.fromisoformat(str(form.get("date", "")).strip())
    except ValueError:
        errors.append("Date de la mesure : AAAA-MM-JJ.")
    value = _float(str(form.get("valeur", "")), "valeur", errors)
    if row.kind == "quantitatif" and value is None and not errors:
        errors.append("Un indicateur quantitatif demande une valeur.")
    comment = str(form.get("commentaire", "")).strip()
    evidence = str(form.get("preuve", "")).strip()
    if len(comment) > MAX_TEXT or len(evidence) > MAX_TEXT:
        errors.append(f"Commentaire et éléments de preuve : au plus {MAX_TEXT} caractères.")
    if row.kind == "qualitatif" and not (comment or evidence):
        errors.append("Un indicateur qualitatif demande un commentaire ou des éléments.")
    if errors:
        return await _render(request, errors=errors, status=400)
    user = auth.current_user(request)
    async with settings.db.transaction() as tx:
        plan_indicators.record(tx, row.id, on, value, comment, evidence, user.actor,
                               settings.clock())
        audit.record(tx, actor=user.actor, action="plan.measurement_recorded",
                     target=f"indicateur:{row.id}", at=settings.clock())
    return auth.see_other("/admin/plan/indicateurs?mesure=1")


@routes.post("/plan/indicateurs/{indicator_id}/mesures/{measurement_id}/validation")
@auth.requires("official")
async def validate(request: web.Request) -> web.StreamResponse:
    """Validates a measurement: only then does it count on the public page."""
    indicator_id = id_or_404(request.match_info["indicator_id"])
    measurement_id = id_or_404(request.match_info["measurement_id"])
    settings, user = config(request), auth.current_user(request)
    async with settings.db.transaction() as tx:
        if not await plan_indicators.validate(tx, measurement_id, indicator_id, user.actor,
                                              settings.clock()):
            raise web.HTTPNotFound(text="Mesure inconnue ou déjà validée.")
        audit.record(tx, actor=user.actor, action="plan.measurement_validated",
                     target=f"mesure:{measurement_id}", at=settings.clock())
    return auth.see_other("/admin/plan/indicateurs?valide=1")

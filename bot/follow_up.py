"""The public follow-up pages, /suivi and /suivi/{consultation}: what people said, what the
Region and the associations decided, where it stands; no sign-in, cacheable."""

import hashlib
from datetime import date, datetime
from typing import TYPE_CHECKING

import aiohttp_jinja2
from aiohttp import web

from bot.engine.flow import Flow
from bot.engine.text import french_number
from storage import catalog, follow_up
from storage.answer_queries import TRIAL_CHANNELS
from storage.tallies import PARIS

if TYPE_CHECKING:
    from bot.app import Relais

SMALL = 5  # a theme raised by fewer answers shows no count: nobody can be singled out
CACHE = "public, max-age=300"  # a phone opening the SMS link twice asks only whether it changed


def _day(value: date | datetime | None) -> str:
    """Writes a date the French way, in Paris time."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(PARIS).date()
    return value.strftime("%d/%m/%Y")


def _value(value: float | None) -> str:
    """Writes a measured value the French way, or a dash."""
    return "—" if value is None else french_number(value)


def shares(found: follow_up.FollowUp, consultation: Flow) -> list[dict]:
    """Returns each theme's label and share, counts under 5 hidden, most raised first."""
    rows = []
    for theme, label in consultation.theme_labels.items():
        count = found.themes.get(theme, 0)
        hidden = 0 < count < SMALL
        share = None if hidden or not found.answers else round(100 * count / found.answers)
        rows.append({"id": theme, "label": label, "count": None if hidden else count,
                     "hidden": hidden, "share": share})
    return sorted(rows, key=lambda row: (-(row["count"] if row["count"] is not None
                                           else SMALL - 0.5), row["label"]))


def cached(request: web.Request, response: web.Response) -> web.Response:
    """Adds an ETag of the body and answers 304 when the browser already holds it."""
    tag = '"' + hashlib.sha256(response.body).hexdigest()[:32] + '"'
    headers = {"ETag": tag, "Cache-Control": CACHE}
    asked = request.headers.get("If-None-Match", "")
    if tag in [value.strip() for value in asked.split(",")] or asked.strip() == "*":
        return web.Response(status=304, headers=headers)
    response.headers.update(headers)
    return response


def setup(app: web.Application, relais: "Relais") -> None:
    """Registers the follow-up pages on the application."""

    async def index(request: web.Request) -> web.Response:
        async with relais.db.read() as tx:
            rows = await catalog.consultations(tx)
            counts = await follow_up.public_counts(tx)
        entries = [{"id": row.id, "title": row.title, "actions": counts.get(row.id, (0,))[0],
                    "updated": _day(counts.get(row.id, (0, None))[1])} for row in rows]
        return cached(request, aiohttp_jinja2.render_template(
            "suivi.html", request, {"entries": entries}))

    async def consultation(request: web.Request) -> web.Response:
        async with relais.db.read() as tx:
            row = await catalog.consultation(tx, request.match_info["consultation"])
            if row is None:
                raise web.HTTPNotFound(text="Consultation inconnue.")
            described = Flow.from_dict(row.definition)
            found = await follow_up.follow_up(
                tx, row.id, [q.id for q in described.questions if q.classify], TRIAL_CHANNELS)
        actions = [{"action": action, "starts": _day(action.starts_on),
                    "ends": _day(action.ends_on),
                    "themes": [described.theme_labels.get(t, t) for t in action.themes],
                    "milestones": [(_day(m.on), m.title, m.text) for m in action.milestones]}
                   for action in found.actions]
        indicators = [{"indicator": row, "value": _value(m.value if m else None),
                       "target": _value(row.target), "on": _day(m.on if m else None),
                       "comment": m.comment if m else ""} for row, m in found.indicators]
        return cached(request, aiohttp_jinja2.render_template("suivi_consultation.html", request, {
            "consultation": described, "shares": shares(found, described),
            "answers": found.answers, "actions": actions, "indicators": indicators,
            "updated": _day(found.updated_at), "small": SMALL}))

    app.router.add_get("/suivi", index)
    app.router.add_get("/suivi/{consultation}", consultation)

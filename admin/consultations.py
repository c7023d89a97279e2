"""Consultations as the admin view reads them: the engine's flows, as published in storage."""

from aiohttp import web

from admin.config import CONFIG
from bot.engine.flow import Flow, Question, UnknownQuestion
from bot.engine.territory import OUTSIDE_REGION, REGION_DEPARTEMENTS
from storage import catalog
from storage.answer_queries import TRIAL_CHANNELS  # noqa: F401 (re-exported)
from storage.tallies import PARIS  # noqa: F401 (re-exported: dates are read and shown in the Region's time)

# A published consultation is the engine's flow itself, with the retention it was published
# with: one model of a consultation for the whole code.
Consultation = Flow

DEPARTEMENTS = {**REGION_DEPARTEMENTS, OUTSIDE_REGION: "Hors région"}
REGION = tuple(REGION_DEPARTEMENTS)
CHANNELS = {"telegram": "Telegram", "sms": "SMS", "web": "Simulateur web",
            "terminal": "Terminal"}


def from_definition(definition: dict, retention_days: int) -> Consultation:
    """Builds a consultation from the JSON its file was published as."""
    return Flow.from_dict({**definition, "retention_days": retention_days})


def question_of(consultation: Consultation, question_id: str) -> Question:
    """Returns a question of the consultation; 404 when it has none with this id."""
    try:
        return consultation.question(question_id)
    except UnknownQuestion:
        raise web.HTTPNotFound(text="Question inconnue.") from None


async def all_consultations(request: web.Request) -> list[Consultation]:
    """Returns every published consultation."""
    async with request.config_dict[CONFIG].db.read() as tx:
        rows = await catalog.consultations(tx)
    return [from_definition(row.definition, row.retention_days) for row in rows]


async def get(request: web.Request) -> Consultation:
    """Returns the consultation named in the URL; 404 when there is none."""
    async with request.config_dict[CONFIG].db.read() as tx:
        row = await catalog.consultation(tx, request.match_info["consultation"])
    if row is None:
        raise web.HTTPNotFound(text="Consultation inconnue.")
    return from_definition(row.definition, row.retention_days)

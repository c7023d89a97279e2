"""Consultations as the admin view reads them: their questions and themes, from storage."""

from dataclasses import dataclass

from aiohttp import web

from admin.config import CONFIG
from storage import catalog
from storage.tallies import PARIS  # noqa: F401 (re-exported: dates are read and shown in the Region's time)

DEPARTEMENTS = {"02": "Aisne", "59": "Nord", "60": "Oise", "62": "Pas-de-Calais",
                "80": "Somme", "hors_region": "Hors région"}
REGION = tuple(code for code in DEPARTEMENTS if code != "hors_region")
CHANNELS = {"telegram": "Telegram", "sms": "SMS", "web": "Simulateur web",
            "terminal": "Terminal"}
# Conversations there are trials by the team, not citizens: left out of every figure unless
# an official asks for them.
TRIAL_CHANNELS = ("web", "terminal")


@dataclass(frozen=True)
class Question:
    """One question of a consultation."""

    id: str
    type: str
    text: str
    choices: dict[str, str]  # value → label, in order
    purpose: str | None
    classify: bool

    @property
    def closed(self) -> bool:
        """Tells whether answers are counted per choice rather than read."""
        return self.type in ("single_choice", "multiple_choice", "yes_no", "scale")


@dataclass(frozen=True)
class Consultation:
    """A published consultation."""

    id: str
    title: str
    audience: str
    retention_days: int
    questions: tuple[Question, ...]
    themes: dict[str, str]  # theme id → label, in order
    keyword: str | None

    def age_bands(self) -> dict[str, str]:
        """Returns the age bands its age question offers (value → label), or none."""
        for question in self.questions:
            if question.purpose == "age_band":
                return dict(question.choices)
        return {}

    def question(self, question_id: str) -> Question:
        """Returns a question; raises 404 when there is none with this id."""
        for question in self.questions:
            if question.id == question_id:
                return question
        raise web.HTTPNotFound(text="Question inconnue.")


def from_definition(definition: dict, retention_days: int) -> Consultation:
    """Builds a consultation from the JSON its file was published as."""
    questions = []
    for q in definition.get("questions", []):
        choices = {str(c["value"]): c["label"] for c in q.get("choices") or []}
        if q["type"] == "yes_no":
            choices = {"true": "Oui", "false": "Non"}
        elif q["type"] == "scale" and q.get("minimum") is not None:
            choices = {str(n): str(n) for n in range(q["minimum"], q["maximum"] + 1)}
        questions.append(Question(q["id"], q["type"], q["text"], choices, q.get("purpose"),
                                  bool(q.get("classify"))))
    themes = {t["id"]: t["label"] for t in definition.get("themes") or []}
    return Consultation(definition["id"], definition["title"], definition.get("audience", ""),
                        retention_days, tuple(questions), themes, definition.get("keyword"))


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

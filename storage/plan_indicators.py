"""Follow-up indicators of the plan: their definitions, dated measurements, validation, and
the ones Relais measures itself once a day."""

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage import catalog, plan
from storage.indicators import feedback_reached, participation
from storage.plan_tables import ActionTheme, Indicator, Measurement

LEVELS = {"activite": "Activité", "realisation": "Réalisation", "effet": "Effet",
          "processus": "Processus"}
KINDS = {"quantitatif": "Quantitatif", "qualitatif": "Qualitatif"}
METHODS = {"calcule": "Calculé par Relais", "enquete": "Enquête", "entretien": "Entretien",
           "focus_groupe": "Groupe de discussion", "temoignage": "Témoignage"}
STARTED = ("en_cours", "realisee")
SYSTEM = "system"


@dataclass(frozen=True)
class Computed:
    """An indicator Relais measures itself, as it is created for each consultation."""

    key: str
    name: str
    question: str
    level: str
    definition: str
    unit: str


COMPUTED = (
    Computed("participants", "Participants", "La consultation touche-t-elle du monde ?",
             "activite", "Personnes allées au-delà du consentement (essais de l'équipe exclus).",
             "personnes"),
    Computed("completion", "Taux de complétion", "Les participants vont-ils au bout ?",
             "activite", "Part des participants qui ont terminé la consultation.", "%"),
    Computed("themes_with_action", "Thèmes avec une action",
             "Ce que les gens ont dit trouve-t-il une réponse ?", "realisation",
             "Part des thèmes de la consultation liés à au moins une action retenue.", "%"),
    Computed("actions_started", "Actions engagées", "Le plan avance-t-il ?", "realisation",
             "Part des actions retenues qui sont en cours ou réalisées.", "%"),
    Computed("feedback_delivered", "Retours reçus", "Les participants savent-ils ce qui a été "
             "fait ?", "processus", "Participants à qui au moins un retour a été remis.",
             "personnes"),
)


@dataclass(frozen=True)
class Definition:
    """What an official defines for an indicator."""

    name: str
    question: str = ""
    level: str = "realisation"
    kind: str = "quantitatif"
    definition: str = ""
    method: str = "enquete"
    source: str = ""
    collector: str = ""
    validator: str = ""
    baseline: float | None = None
    target: float | None = None
    unit: str = ""
    frequency: str = ""
    consultation_id: str | None = None


def problems(values: Definition, consultations: set[str]) -> list[str]:
    """Lists, in French, what is wrong with an indicator's definition."""
    found = []
    if not values.name.strip() or len(values.name) > 200:
        found.append("nom : de 1 à 200 caractères")
    if values.level not in LEVELS:
        found.append("niveau inconnu")
    if values.kind not in KINDS:
        found.append("type inconnu")
    if values.method not in METHODS or values.method == "calcule":
        found.append("méthode inconnue (les indicateurs calculés sont créés par Relais)")
    if values.consultation_id is not None and values.consultation_id not in consultations:
        found.append("consultation inconnue")
    for name, limit in (("unit", 20), ("frequency", 40), ("collector", 200),
                        ("validator", 200)):
        if len(getattr(values, name)) > limit:
            found.append(f"{name} : au plus {limit} caractères")
    return found


def define(tx: AsyncSession, values: Definition, at: datetime) -> Indicator:
    """Adds an indicator entered by people (not computed)."""
    row = Indicator(created_at=at, computed=None, **asdict(values))
    tx.add(row)
    return row


async def indicators(tx: AsyncSession, consultation_id: str | None = None) -> list[Indicator]:
    """Returns the indicators (of one consultation), computed ones first."""
    query = select(Indicator).order_by(Indicator.computed.is_(None), Indicator.id)
    if consultation_id is not None:
        query = query.where(Indicator.consultation_id == consultation_id)
    return list(await tx.scalars(query))


async def indicator(tx: AsyncSession, indicator_id: int) -> Indicator | None:
    """Returns one indicator, or None."""
    return await tx.get(Indicator, indicator_id)


async def measurements(tx: AsyncSession, indicator_ids: list[int], *,
                       validated_only: bool = False) -> dict[int, list[Measurement]]:
    """Returns each indicator's measurements, oldest first; automatic ones count as
    validated."""
    found: dict[int, list[Measurement]] = defaultdict(list)
    if not indicator_ids:
        return found
    query = select(Measurement).where(Measurement.indicator_id.in_(indicator_ids)) \
        .order_by(Measurement.on, Measurement.id)
    if validated_only:
        query = query.where(Measurement.validated_at.is_not(None))
    for row in await tx.scalars(query):
        found[row.indicator_id].append(row)
    return found


def record(tx: AsyncSession, indicator_id: int, on: date, value: float | None, comment: str,
           evidence: str, entered_by: str, at: datetime) -> Measurement:
    """Adds a measurement entered by a person; an official validates it later."""
    row = Measurement(indicator_id=indicator_id, on=on, value=value, comment=comment,
                      evidence=evidence, entered_by=entered_by, created_at=at)
    tx.add(row)
    return row


async def validate(tx: AsyncSession, measurement_id: int, indicator_id: int, actor: str,
                   at: datetime) -> bool:
    """Marks a measurement validated by an official; False when there is none to validate."""
    row = await tx.get(Measurement, measurement_id)
    if row is None or row.indicator_id != indicator_id or row.validated_at is not None:
        return False
    row.validated_by, row.validated_at = actor, at
    return True


async def _ensure_computed(tx: AsyncSession, consultation_id: str, at: datetime) -> dict:
    """Creates the computed indicators a consultation lacks; returns them by key."""
    found = {row.computed: row for row in await tx.scalars(
        select(Indicator).where(Indicator.consultation_id == consultation_id,
                                Indicator.computed.is_not(None)))}
    for spec in COMPUTED:
        if spec.key not in found:
            row = Indicator(consultation_id=consultation_id, name=spec.name,
                            question=spec.question, level=spec.level, kind="quantitatif",
                            definition=spec.definition, method="calcule",
                            source="Base de données de Relais", collector="Relais",
                            validator="Relais", unit=spec.unit, frequency="quotidienne",
                            computed=spec.key, created_at=at)
            tx.add(row)
            found[spec.key] = row
    await tx.flush()
    return found


async def compute(tx: AsyncSession, consultation_id: str, theme_ids: list[str],
                  hidden_channels: tuple[str, ...]) -> dict[str, float | None]:
    """Returns today's value of each computed indicator of a consultation."""
    groups = await participation(tx, consultation_id, hidden_channels)
    people = sum(g.participants for g in groups)
    completed = sum(g.participants for g in groups if g.status == "completed")
    kept = [row for row in await plan.actions(tx, consultation_id) if plan.counted(row)]
    covered = set(await tx.scalars(
        select(ActionTheme.theme).distinct()
        .where(ActionTheme.action_id.in_([row.id for row in kept])))) if kept else set()
    return {
        "participants": float(people),
        "completion": 100 * completed / people if people else None,
        "themes_with_action": 100 * len(covered & set(theme_ids)) / len(theme_ids)
        if theme_ids else None,
        "actions_started": 100 * sum(row.status in STARTED for row in kept) / len(kept)
        if kept else None,
        "feedback_delivered": float(await feedback_reached(tx, consultation_id)),
    }


async def measure(db, today: date, at: datetime, hidden_channels: tuple[str, ...]) -> int:
    """Records today's automatic measurement of every computed indicator of every
    consultation, at most once a day each; returns how many it recorded."""
    async with db.read() as tx:
        rows = [(row.id, [t["id"] for t in row.definition.get("themes") or []])
                for row in await catalog.consultations(tx)]
    recorded = 0
    for consultation_id, theme_ids in rows:
        added = 0
        try:
            async with db.transaction() as tx:
                found = await _ensure_computed(tx, consultation_id, at)
                done = set(await tx.scalars(select(Measurement.indicator_id).where(
                    Measurement.automatic_on == today,
                    Measurement.indicator_id.in_([row.id for row in found.values()]))))
                values = await compute(tx, consultation_id, theme_ids, hidden_channels)
                for key, row in found.items():
                    if row.id in done or key not in values:
                        continue
                    tx.add(Measurement(indicator_id=row.id, on=today, value=values[key],
                                       entered_by=SYSTEM, validated_by=SYSTEM,
                                       validated_at=at, automatic_on=today, created_at=at,
                                       comment="", evidence=""))
                    added += 1
        except IntegrityError:
            continue  # another worker measured this consultation today: its values stand
        recorded += added
    return recorded

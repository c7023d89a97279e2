"""How far each association's relay reaches: who came through it, per consultation."""

from dataclasses import dataclass

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.tables import ConsultationSession, Participant


@dataclass(frozen=True)
class Funnel:
    """The people an association brought to one consultation, at each step."""

    association_id: int
    consultation_id: str
    started: int
    completed: int
    stopped: int


async def funnels(tx: AsyncSession, association_id: int | None = None) -> list[Funnel]:
    """Counts, per association and consultation, the people it brought who started, completed
    and stopped; one association's only when `association_id` is given."""
    person = ConsultationSession.participant_id
    # A person who completed then sent STOP has both: completed_at stays set.
    completed = case((ConsultationSession.completed_at.is_not(None), person))
    stopped = case((or_(ConsultationSession.status == "stopped",
                        Participant.stopped_at.is_not(None)), person))
    statement = (
        select(Participant.association_id, ConsultationSession.consultation_id,
               func.count(person.distinct()), func.count(completed.distinct()),
               func.count(stopped.distinct()))
        .join(Participant, Participant.id == person)
        .where(Participant.association_id.is_not(None))
        .group_by(Participant.association_id, ConsultationSession.consultation_id)
        .order_by(Participant.association_id, ConsultationSession.consultation_id))
    if association_id is not None:
        statement = statement.where(Participant.association_id == association_id)
    return [Funnel(*row) for row in await tx.execute(statement)]


async def per_invite(tx: AsyncSession, association_id: int) -> dict[str, tuple[int, int]]:
    """Counts, per invite code of an association, the people it brought who started a
    consultation and who completed it."""
    person = ConsultationSession.participant_id
    completed = case((ConsultationSession.completed_at.is_not(None), person))
    rows = await tx.execute(
        select(Participant.invite_code, func.count(person.distinct()),
               func.count(completed.distinct()))
        .join(Participant, Participant.id == person)
        .where(Participant.association_id == association_id,
               Participant.invite_code.is_not(None))
        .group_by(Participant.invite_code))
    return {code: (started, done) for code, started, done in rows}

"""Consultation sessions and the answers recorded in them."""

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import labels
from storage.inserts import upsert
from storage.tables import Answer, Consultation, ConsultationSession, InboundMessage, OutboxMessage


async def current_of(tx: AsyncSession,
                     participant_ids: list[int]) -> dict[int, ConsultationSession]:
    """Returns the latest session of each participant that has one, in one query."""
    latest = (select(func.max(ConsultationSession.id))
              .where(ConsultationSession.participant_id.in_(participant_ids))
              .group_by(ConsultationSession.participant_id))
    rows = await tx.scalars(select(ConsultationSession)
                            .where(ConsultationSession.id.in_(latest)))
    return {row.participant_id: row for row in rows}


async def open_session(tx: AsyncSession, participant_id: int, consultation_id: str,
                       state: dict, status: str, at: datetime) -> ConsultationSession:
    """Starts a new session of a consultation for a participant."""
    row = ConsultationSession(participant_id=participant_id, consultation_id=consultation_id,
                              status=status, state=state, started_at=at, updated_at=at)
    tx.add(row)
    await tx.flush()
    return row


def save_state(row: ConsultationSession, state: dict, status: str, at: datetime) -> None:
    """Updates a session with the engine's new state."""
    row.state = state
    if status == "completed" and row.status != "completed":
        row.completed_at = at
    row.status = status
    row.updated_at = at


async def record_answer(tx: AsyncSession, row: ConsultationSession, question_id: str,
                        raw: str, value: object, valid: bool, at: datetime, *,
                        channel: str | None = None, association_id: int | None = None) -> None:
    """Records (or replaces) the answer to a question in a session."""
    # On the table, not the mapped class: the ORM's bulk machinery costs more than the write.
    # A replaced answer is new text: it is redacted again.
    statement = upsert(tx, Answer.__table__, ("session_id", "question_id"),
                       ("raw_text", "value", "valid", "answered_at", "redacted_text"))
    await tx.execute(statement, {
        "session_id": row.id, "participant_id": row.participant_id,
        "consultation_id": row.consultation_id, "question_id": question_id, "raw_text": raw,
        "value": value, "valid": valid, "answered_at": at, "channel": channel,
        "association_id": association_id, "territory": row.territory, "redacted_text": None})


async def set_territory(tx: AsyncSession, row: ConsultationSession, territory: str | None) -> None:
    """Sets a session's territory, and on the answers given before it was known."""
    row.territory = territory
    await tx.execute(update(Answer.__table__).where(Answer.__table__.c.session_id == row.id)
                     .values(territory=territory))


async def answer_id(tx: AsyncSession, session_id: int, question_id: str) -> int | None:
    """Returns the id of the answer to a question in a session."""
    return await tx.scalar(select(Answer.id).where(Answer.session_id == session_id,
                                                   Answer.question_id == question_id))


async def clear_answers(tx: AsyncSession, row: ConsultationSession, at: datetime) -> None:
    """Deletes the answers of a session and what was derived from them."""
    deleted = await tx.execute(delete(Answer).where(Answer.session_id == row.id))
    row.territory = row.age_band = row.feedback_opt_in = None
    if deleted.rowcount:
        await labels.forget_summaries(tx, {row.consultation_id}, at)


async def erase_participant(tx: AsyncSession, participant_id: int, at: datetime) -> None:
    """Erases everything a participant said: answers (with their themes, labels and pinned
    quotes), sessions, message texts, and the summaries their words may be part of."""
    consulted = set(await tx.scalars(select(Answer.consultation_id).distinct()
                                     .where(Answer.participant_id == participant_id)))
    await tx.execute(delete(Answer).where(Answer.participant_id == participant_id))
    await labels.forget_summaries(tx, consulted, at)
    await tx.execute(delete(ConsultationSession)
                     .where(ConsultationSession.participant_id == participant_id))
    # The rows stay (a redelivered message must still be recognised), their words do not.
    await tx.execute(update(InboundMessage).where(InboundMessage.participant_id == participant_id)
                     .values(text="", payload={}))
    await tx.execute(update(OutboxMessage)
                     .where(OutboxMessage.participant_id == participant_id,
                            OutboxMessage.status != "pending")
                     .values(text=""))


async def answers_of(tx: AsyncSession, participant_id: int) -> list[tuple[str, str, str]]:
    """Lists (consultation title, question id, raw answer) held about a participant."""
    rows = await tx.execute(
        select(Consultation.title, Answer.question_id, Answer.raw_text)
        .join(Consultation, Consultation.id == Answer.consultation_id)
        .where(Answer.participant_id == participant_id).order_by(Answer.id))
    return [tuple(row) for row in rows]

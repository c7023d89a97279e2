"""Consultation sessions and the answers recorded in them."""

from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import labels, tallies
from storage.inserts import upsert
from storage.tables import Answer, ConsultationSession, InboundMessage, OutboxMessage

_SESSIONS = ConsultationSession.__table__
_ANSWERS = Answer.__table__
# What a turn may change in a session; written back by id, a batch at a time.
_CHANGING = ("status", "state", "territory", "age_band", "feedback_opt_in", "updated_at",
             "completed_at")
_UPDATE_SESSION = update(_SESSIONS).where(_SESSIONS.c.id == bindparam("session_id")).values(
    {name: bindparam(f"new_{name}") for name in _CHANGING})
_SET_TERRITORY = update(_ANSWERS).where(_ANSWERS.c.session_id == bindparam("of_session")) \
    .values(territory=bindparam("new_territory"))


@dataclass(eq=False)
class SessionRecord:
    """A session's columns as plain values: turns change it in memory, and a batch of them
    is written back in a few statements (`insert_sessions`, `update_sessions`)."""

    participant_id: int
    consultation_id: str
    status: str
    state: dict
    started_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None
    territory: str | None = None
    age_band: str | None = None
    feedback_opt_in: bool | None = None
    id: int | None = None  # known once inserted

    def take_state(self, state: dict, status: str, at: datetime) -> None:
        """Takes the engine's new state; the first completion is dated."""
        self.state = state
        if status == "completed" and self.status != "completed":
            self.completed_at = at
        self.status = status
        self.updated_at = at


_RECORDED = tuple(field.name for field in fields(SessionRecord))  # the columns, in field order


async def current_of(tx: AsyncSession, participant_ids: list[int]) -> dict[int, SessionRecord]:
    """Returns the latest session of each participant that has one, in one query."""
    latest = (select(func.max(_SESSIONS.c.id))
              .where(_SESSIONS.c.participant_id.in_(participant_ids))
              .group_by(_SESSIONS.c.participant_id))
    rows = await tx.execute(select(*(_SESSIONS.c[name] for name in _RECORDED))
                            .where(_SESSIONS.c.id.in_(latest)))
    return {row.participant_id: SessionRecord(*row) for row in rows}


async def insert_sessions(tx: AsyncSession, records: list[SessionRecord]) -> None:
    """Inserts new sessions and gives each record its id: one statement, and one more for
    each further session a participant opened meanwhile, so that the latest has the highest
    id."""
    await tallies.touch_records(tx, records)
    statement = insert(_SESSIONS).returning(_SESSIONS.c.participant_id, _SESSIONS.c.id)
    while records:
        # Ids are matched back by participant: the order of RETURNING is not promised.
        first, later, seen = [], [], set()
        for record in records:
            (later if record.participant_id in seen else first).append(record)
            seen.add(record.participant_id)
        ids = dict((await tx.execute(statement, [
            {name: getattr(record, name) for name in _RECORDED if name != "id"}
            for record in first])).all())
        for record in first:
            record.id = ids[record.participant_id]
        records = later


async def update_sessions(tx: AsyncSession, records: list[SessionRecord]) -> None:
    """Writes back what turns changed in sessions already stored, in one statement."""
    if records:
        await tallies.touch_records(tx, records)
        await tx.execute(_UPDATE_SESSION, [
            {"session_id": record.id, **{f"new_{name}": getattr(record, name)
                                         for name in _CHANGING}} for record in records])


async def record_answers(tx: AsyncSession, answers: list[dict]) -> None:
    """Records (or replaces) answers, in order: each the session's id and `answer_values`."""
    if answers:
        await tx.execute(_upsert_answer(tx), [dict(row, redacted_text=None) for row in answers])


async def set_territories(tx: AsyncSession, territories: dict[int, str | None]) -> None:
    """Sets the territory of every answer of these sessions (session id → territory)."""
    if territories:
        await tx.execute(_SET_TERRITORY, [{"of_session": session_id, "new_territory": place}
                                          for session_id, place in territories.items()])


async def open_session(tx: AsyncSession, participant_id: int, consultation_id: str,
                       state: dict, status: str, at: datetime) -> ConsultationSession:
    """Starts a new session of a consultation for a participant."""
    row = ConsultationSession(participant_id=participant_id, consultation_id=consultation_id,
                              status=status, state=state, started_at=at, updated_at=at)
    await tallies.touch_records(tx, [row])
    tx.add(row)
    await tx.flush()
    return row


async def record_answer(tx: AsyncSession, row: ConsultationSession | SessionRecord,
                        question_id: str, raw: str, value: object, valid: bool, at: datetime, *,
                        channel: str | None = None, association_id: int | None = None) -> None:
    """Records (or replaces) the answer to a question in a session."""
    await tallies.touch_sessions(tx, [row.id])  # the session itself may not be written
    await record_answers(tx, [{"session_id": row.id, **answer_values(
        row, question_id, raw, value, valid, at, channel=channel, association_id=association_id)}])


def answer_values(session: ConsultationSession | SessionRecord, question_id: str, raw: str,
                  value: object, valid: bool, at: datetime, *, channel: str | None,
                  association_id: int | None) -> dict:
    """Returns the columns of an answer but its session's id, which a new session gets later."""
    return {"participant_id": session.participant_id,
            "consultation_id": session.consultation_id, "question_id": question_id,
            "raw_text": raw, "value": value, "valid": valid, "answered_at": at,
            "channel": channel, "association_id": association_id,
            "territory": session.territory}


def _upsert_answer(tx: AsyncSession):
    # On the table, not the mapped class: the ORM's bulk machinery costs more than the write.
    # A replaced answer is new text: it is redacted again.
    return upsert(tx, _ANSWERS, ("session_id", "question_id"),
                  ("raw_text", "value", "valid", "answered_at", "redacted_text"))


async def set_territory(tx: AsyncSession, row: ConsultationSession,
                        territory: str | None) -> None:
    """Sets a session's territory, and on the answers given before it was known."""
    row.territory = territory
    await tallies.touch_records(tx, [row])
    await tx.execute(update(Answer.__table__).where(Answer.__table__.c.session_id == row.id)
                     .values(territory=territory))


async def answer_id(tx: AsyncSession, session_id: int, question_id: str) -> int | None:
    """Returns the id of the answer to a question in a session."""
    return await tx.scalar(select(Answer.id).where(Answer.session_id == session_id,
                                                   Answer.question_id == question_id))


async def clear_answers(tx: AsyncSession, row: ConsultationSession | SessionRecord,
                        at: datetime) -> None:
    """Deletes the answers of a session and what was derived from them."""
    await tallies.touch_sessions(tx, [row.id])
    deleted = await tx.execute(delete(Answer).where(Answer.session_id == row.id))
    row.territory = row.age_band = row.feedback_opt_in = None
    if deleted.rowcount:
        await labels.forget_summaries(tx, {row.consultation_id}, at)


async def erase_participant(tx: AsyncSession, participant_id: int, at: datetime) -> None:
    """Erases everything a participant said: answers (with their themes, labels and pinned
    quotes), sessions, message texts, and the summaries their words may be part of."""
    consulted = set(await tx.scalars(select(Answer.consultation_id).distinct()
                                     .where(Answer.participant_id == participant_id)))
    await tallies.touch_participants(tx, [participant_id])  # their sessions' days recounted
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


async def answers_of(tx: AsyncSession, participant_id: int) -> list[tuple[str, str, object, str]]:
    """Lists (consultation, question id, value, raw answer) held about a participant, in the
    order given."""
    rows = await tx.execute(
        select(Answer.consultation_id, Answer.question_id, Answer.value, Answer.raw_text)
        .where(Answer.participant_id == participant_id).order_by(Answer.id))
    return [tuple(row) for row in rows]

"""Forgets what is kept longer than each consultation's retention (`relais purge`)."""

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import labels as theme_labels
from storage import tallies, users
from storage.tables import (
    Answer,
    AnswerLabel,
    Consultation,
    ConsultationSession,
    Identity,
    InboundMessage,
    LoginFailure,
    OutboxMessage,
    Participant,
)

# Failed sign-ins only throttle for an hour; a day leaves room to look into an attack.
LOGIN_FAILURES_KEPT = timedelta(days=1)


@dataclass(frozen=True)
class Purged:
    """How many rows a purge deleted or emptied."""

    sessions: int
    answers: int
    labels: int
    inbound_texts: int
    outbox_texts: int
    participants: int
    identities: int
    login_failures: int
    admin_sessions: int

    def as_dict(self) -> dict[str, int]:
        """Returns the counts by name, for the audit log and the command's output."""
        return asdict(self)


async def purge(tx: AsyncSession, now: datetime, *, idle_timeout: timedelta,
                session_lifetime: timedelta) -> Purged:
    """Deletes sessions and answers older than their consultation's retention (from their
    last activity), empties older message texts, then deletes the participants nothing is
    left of, old failed sign-ins and expired admin sessions."""
    retentions = dict((await tx.execute(select(Consultation.id,
                                               Consultation.retention_days))).all())
    sessions = answers = labels = 0
    for consultation_id, days in retentions.items():
        old = select(ConsultationSession.id).where(
            ConsultationSession.consultation_id == consultation_id,
            ConsultationSession.updated_at < now - timedelta(days=days))
        old_answers = select(Answer.id).where(Answer.session_id.in_(old))
        await tallies.touch_sessions(tx, old)
        labels += await _delete(tx, AnswerLabel, AnswerLabel.answer_id.in_(old_answers))
        deleted = await _delete(tx, Answer, Answer.session_id.in_(old))
        if deleted:  # their words may be in the summaries' terms: computed again
            await theme_labels.forget_summaries(tx, {consultation_id}, now)
        answers += deleted
        sessions += await _delete(tx, ConsultationSession, ConsultationSession.id.in_(old))
    # Messages are not tied to one consultation: their words go after the longest retention.
    if not retentions:  # nothing published: no retention to apply to messages
        return Purged(0, 0, 0, 0, 0, 0, 0, *await _admin(tx, now, idle_timeout,
                                                          session_lifetime))
    longest = now - timedelta(days=max(retentions.values()))
    inbound_texts = await _empty(tx, update(InboundMessage).where(
        InboundMessage.received_at < longest, InboundMessage.text != "",
        InboundMessage.status != "pending").values(text="", payload={}))
    outbox_texts = await _empty(tx, update(OutboxMessage).where(
        OutboxMessage.created_at < longest, OutboxMessage.text != "",
        OutboxMessage.status.not_in(("pending", "sending"))).values(text=""))
    forgotten = select(Participant.id).where(
        Participant.created_at < longest,
        ~exists().where(ConsultationSession.participant_id == Participant.id),
        ~exists().where(Answer.participant_id == Participant.id),
        # Anything recent or still to do keeps the person: a message being handled now.
        ~exists().where(InboundMessage.participant_id == Participant.id,
                        or_(InboundMessage.received_at >= longest,
                            InboundMessage.status == "pending")),
        ~exists().where(OutboxMessage.participant_id == Participant.id,
                        or_(OutboxMessage.created_at >= longest,
                            OutboxMessage.status.in_(("pending", "sending")))))
    ids = list(await tx.scalars(forgotten))
    identities = participants = 0
    for start in range(0, len(ids), 500):  # bounded IN lists
        chunk = ids[start:start + 500]
        identities += await _delete(tx, Identity, Identity.participant_id.in_(chunk))
        participants += await _delete(tx, Participant, Participant.id.in_(chunk))
    return Purged(sessions, answers, labels, inbound_texts, outbox_texts, participants,
                  identities, *await _admin(tx, now, idle_timeout, session_lifetime))


async def _admin(tx: AsyncSession, now: datetime, idle_timeout: timedelta,
                 session_lifetime: timedelta) -> tuple[int, int]:
    """Deletes old failed sign-ins and expired admin sessions; returns both counts."""
    failures_before = now - LOGIN_FAILURES_KEPT
    login_failures = await tx.scalar(select(func.count()).select_from(LoginFailure)
                                     .where(LoginFailure.at < failures_before)) or 0
    await users.forget_failures(tx, failures_before)
    admin_sessions = await users.close_stale_sessions(tx, now - idle_timeout,
                                                      now - session_lifetime)
    return login_failures, admin_sessions


async def _delete(tx: AsyncSession, table, condition) -> int:
    result = await tx.execute(delete(table).where(condition)
                              .execution_options(synchronize_session=False))
    return result.rowcount or 0


async def _empty(tx: AsyncSession, statement) -> int:
    result = await tx.execute(statement.execution_options(synchronize_session=False))
    return result.rowcount or 0


"""Feedback to participants (step d): who receives it, its sending through the outbox, its
counts, and the replies it gets."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, exists, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import conversations, outbox
from storage.tables import (
    Answer,
    AnswerTheme,
    Consultation,
    ConsultationSession,
    FeedbackMessage,
    Identity,
    OutboxMessage,
    Participant,
)

KIND = "feedback"  # the outbox kind of feedback messages: sent only in allowed hours
REPLY_PREFIX = "retour_"  # a reply to feedback 12 is stored as the answer to "retour_12"
# The same message to the same people again within this long is a second click, not a choice.
DUPLICATE_WINDOW = timedelta(minutes=10)


class AlreadySent(Exception):
    """The same message was just sent to the same people."""

    def __init__(self, feedback_id: int) -> None:
        super().__init__(f"feedback {feedback_id} already sent")
        self.feedback_id = feedback_id


@dataclass(frozen=True)
class Audience:
    """Who a feedback message is for: a consultation's participants, maybe narrowed down."""

    consultation_id: str
    theme: str | None = None  # only those with an answer in this theme
    territory: str | None = None  # only those of this département
    # Only those with an answer in any of these themes: an action's, when it is told about.
    themes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sent:
    """A feedback message sent, with what became of it."""

    id: int
    created_at: datetime
    author: str
    theme: str | None
    territory: str | None
    text: str
    recipients: int
    accepted: int  # handed over to the provider (Telegram, SMS operator)
    delivered: int  # reported delivered to the phone (SMS only)
    failed: int
    pending: int
    cancelled: int  # e.g. the person stopped before it went out
    replies: int


def reply_question(feedback_id: int) -> str:
    """Returns the question id replies to a feedback are stored under."""
    return f"{REPLY_PREFIX}{feedback_id}"


def _recipients(audience: Audience) -> Select:
    """The query of (participant id, channel) of who would receive feedback now."""
    session = ConsultationSession
    conditions = [session.consultation_id == audience.consultation_id,
                  session.feedback_opt_in.is_(True), session.status != "stopped",
                  Participant.stopped_at.is_(None),
                  exists().where(Identity.participant_id == Participant.id)]
    if audience.territory is not None:
        conditions.append(session.territory == audience.territory)
    if audience.theme is not None:
        conditions.append(exists().where(Answer.session_id == session.id,
                                         AnswerTheme.answer_id == Answer.id,
                                         AnswerTheme.theme == audience.theme))
    if audience.themes:
        conditions.append(exists().where(Answer.session_id == session.id,
                                         AnswerTheme.answer_id == Answer.id,
                                         AnswerTheme.theme.in_(audience.themes)))
    return (select(Participant.id, Participant.channel).distinct()
            .join(session, session.participant_id == Participant.id).where(*conditions))


async def recipients(tx: AsyncSession, audience: Audience) -> list[tuple[int, str]]:
    """Lists (participant id, channel) of who would receive feedback now: those who asked for
    it in this consultation, never those who stopped, and who can still be reached."""
    rows = await tx.execute(_recipients(audience).order_by(Participant.id))
    return [(pid, channel) for pid, channel in rows]


def per_channel(people: list[tuple[int, str]]) -> dict[str, int]:
    """Counts recipients per channel."""
    return dict(Counter(channel for _, channel in people))


async def send(tx: AsyncSession, audience: Audience, text: str, author: str,
               at: datetime, action_id: int | None = None) -> FeedbackMessage:
    """Stores a feedback message (maybe about an action of the plan) and queues it for each
    recipient; raises AlreadySent when the same message went to the same people moments
    ago."""
    # Two sends of one consultation wait for each other, so a double click cannot slip
    # between the check and the insert (SQLite already has one writer at a time).
    if tx.bind.dialect.name == "postgresql":
        await tx.execute(select(Consultation.id).where(
            Consultation.id == audience.consultation_id).with_for_update())
    twin = await tx.scalar(select(FeedbackMessage.id).where(
        FeedbackMessage.consultation_id == audience.consultation_id,
        FeedbackMessage.theme == audience.theme, FeedbackMessage.territory == audience.territory,
        FeedbackMessage.text == text, FeedbackMessage.action_id == action_id,
        FeedbackMessage.created_at >= at - DUPLICATE_WINDOW))
    if twin is not None:
        raise AlreadySent(twin)
    message = FeedbackMessage(consultation_id=audience.consultation_id, theme=audience.theme,
                              territory=audience.territory, text=text, author=author,
                              created_at=at, sent_at=at, recipients=0, action_id=action_id)
    tx.add(message)
    await tx.flush()
    # One INSERT … SELECT for every recipient, done by the database: tens of thousands of
    # rows never pass through Python, so the process's other requests (webhooks) go on.
    found = _recipients(audience).subquery()
    fixed = {"text": text, "choices": [], "status": outbox.PENDING, "attempts": 0,
             "position": 0, "kind": KIND, "created_at": at, "feedback_id": message.id}
    table = OutboxMessage.__table__
    queued = await tx.execute(insert(table).from_select(
        ["participant_id", "channel", *fixed],
        select(found.c.id, found.c.channel,
               *(literal(value, table.c[name].type) for name, value in fixed.items()))
        .order_by(found.c.id)))
    message.recipients = queued.rowcount
    return message


async def history(tx: AsyncSession, consultation_id: str) -> list[Sent]:
    """Lists a consultation's feedback messages, newest first, with their delivery counts."""
    messages = list(await tx.scalars(
        select(FeedbackMessage).where(FeedbackMessage.consultation_id == consultation_id)
        .order_by(FeedbackMessage.created_at.desc(), FeedbackMessage.id.desc())))
    if not messages:
        return []
    ids = [m.id for m in messages]
    statuses: dict[int, Counter] = {i: Counter() for i in ids}
    rows = await tx.execute(
        select(OutboxMessage.feedback_id, OutboxMessage.status, OutboxMessage.delivery_status,
               func.count())
        .where(OutboxMessage.feedback_id.in_(ids))
        .group_by(OutboxMessage.feedback_id, OutboxMessage.status,
                  OutboxMessage.delivery_status))
    for feedback_id, status, reported, count in rows:
        found = statuses[feedback_id]
        if status == outbox.SENT and reported in ("undelivered", "failed"):
            found["failed"] += count  # accepted, then the operator could not deliver it
            continue
        found[status] += count
        if reported == "delivered":
            found["delivered"] += count
    replies = dict((await tx.execute(
        select(Answer.question_id, func.count())
        .where(Answer.consultation_id == consultation_id,
               Answer.question_id.in_([reply_question(i) for i in ids]))
        .group_by(Answer.question_id))).all())
    return [Sent(m.id, m.created_at, m.author, m.theme, m.territory, m.text, m.recipients,
                 accepted=statuses[m.id][outbox.SENT],
                 delivered=statuses[m.id]["delivered"],
                 failed=statuses[m.id][outbox.FAILED] + statuses[m.id]["failed"],
                 pending=statuses[m.id][outbox.PENDING] + statuses[m.id][outbox.SENDING],
                 cancelled=statuses[m.id][outbox.CANCELLED],
                 replies=replies.get(reply_question(m.id), 0)) for m in messages]


async def latest_sent_to(tx: AsyncSession, participant_id: int, consultation_id: str,
                         before: datetime) -> int | None:
    """Returns the latest feedback of a consultation delivered to a participant before a time."""
    return await tx.scalar(
        select(OutboxMessage.feedback_id)
        .join(FeedbackMessage, FeedbackMessage.id == OutboxMessage.feedback_id)
        .where(OutboxMessage.participant_id == participant_id,
               OutboxMessage.kind == KIND, OutboxMessage.status == outbox.SENT,
               OutboxMessage.sent_at <= before,
               FeedbackMessage.consultation_id == consultation_id)
        .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc()).limit(1))


async def record_reply(tx: AsyncSession, row: ConsultationSession | conversations.SessionRecord,
                       feedback_id: int, text: str, at: datetime, *, channel: str | None,
                       association_id: int | None) -> bool:
    """Stores a participant's reply to a feedback as an answer of their session (a second
    reply to the same feedback is added to the first); tells whether it was the first."""
    question = reply_question(feedback_id)
    earlier = await tx.scalar(select(Answer.raw_text).where(Answer.session_id == row.id,
                                                            Answer.question_id == question))
    raw = text if earlier is None else f"{earlier}\n{text}"
    await conversations.record_answer(tx, row, question, raw, None, True, at, channel=channel,
                                      association_id=association_id)
    return earlier is None

"""The outbox: replies stored with the turn that made them, then delivered with leases."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.tables import OutboxMessage, Participant

PENDING, SENDING, SENT, FAILED, CANCELLED = "pending", "sending", "sent", "failed", "cancelled"
# Sent even to a participant who just opted out: the confirmation that they did.
OPT_OUT_CONFIRMATION = "opt_out_confirmation"
# The answer to MES DONNEES: it quotes the person's answers, so its text is emptied once
# delivered (the answers table keeps the one raw copy).
PERSONAL_DATA = "data"
# Channels whose page is drawn from the stored replies (the web chat, a trial tool).
SHOWN_FROM_STORAGE = ("web",)
# Answers to what a participant wrote; anything else is a message Relais starts.
CONVERSATIONAL = ("reply", OPT_OUT_CONFIRMATION, PERSONAL_DATA)


@dataclass(frozen=True)
class Claimed:
    """A message leased to one sender until `lease_until`."""

    id: int
    participant_id: int
    channel: str
    kind: str
    text: str
    choices: list
    question_id: str | None
    attempts: int
    stopped: bool


def enqueue(tx: AsyncSession, *, participant_id: int, channel: str, text: str, at: datetime,
            choices: list | None = None, question_id: str | None = None,
            inbound_id: int | None = None, position: int = 0, kind: str = "reply",
            not_before: datetime | None = None, feedback_id: int | None = None) -> None:
    """Adds a message to deliver; commits with the caller's transaction."""
    tx.add(OutboxMessage(participant_id=participant_id, channel=channel, text=text,
                         choices=choices or [], question_id=question_id,
                         inbound_id=inbound_id, position=position,
                         kind=kind, status=PENDING, attempts=0, not_before=not_before,
                         created_at=at, feedback_id=feedback_id))


async def enqueue_many(tx: AsyncSession, replies: list[dict]) -> None:
    """Adds messages to deliver in one statement, each a dict of participant_id, channel, text,
    choices, question_id, inbound_id, position, kind and created_at (and feedback_id for
    feedback); commits with the caller's transaction."""
    if replies:
        await tx.execute(OutboxMessage.__table__.insert(), [
            {"feedback_id": None, **reply, "status": PENDING, "attempts": 0, "not_before": None}
            for reply in replies])


async def claim(tx: AsyncSession, channels: Iterable[str], now: datetime, lease: timedelta,
                limit: int, worker_id: int | None = None) -> list[Claimed]:
    """Leases due messages of some channels to a worker, oldest first, taking over expired
    leases."""
    earlier = aliased(OutboxMessage)
    # A participant's replies keep their order: one waiting for a retry blocks those after
    # it. A message Relais started (feedback) waiting for daytime blocks nothing.
    blocked = exists().where(
        earlier.participant_id == OutboxMessage.participant_id,
        earlier.id < OutboxMessage.id,
        or_(and_(earlier.status == SENDING, earlier.lease_until >= now),
            and_(earlier.status == PENDING, earlier.not_before > now,
                 earlier.kind.in_(CONVERSATIONAL))))
    due = and_(OutboxMessage.channel.in_(list(channels)), ~blocked, or_(
        and_(OutboxMessage.status == PENDING,
             or_(OutboxMessage.not_before.is_(None), OutboxMessage.not_before <= now)),
        # A sender that crashed mid-send left a lease that ran out.
        and_(OutboxMessage.status == SENDING, OutboxMessage.lease_until < now),
    ))
    statement = select(OutboxMessage).where(due).order_by(OutboxMessage.id).limit(limit)
    if tx.bind.dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    rows = list(await tx.scalars(statement))
    if not rows:
        return []
    stopped = set(await tx.scalars(
        select(Participant.id).where(Participant.id.in_({r.participant_id for r in rows}),
                                     Participant.stopped_at.is_not(None))))
    for row in rows:
        row.status, row.lease_until, row.leased_by = SENDING, now + lease, worker_id
    return [Claimed(r.id, r.participant_id, r.channel, r.kind, r.text, r.choices, r.question_id,
                    r.attempts, r.participant_id in stopped) for r in rows]


async def mark_sent(tx: AsyncSession, sent: list[tuple[int, str | None, datetime]]) -> None:
    """Records deliveries the provider accepted: (message id, provider id, time) each."""
    if not sent:
        return
    table = OutboxMessage.__table__
    await tx.execute(
        update(table).where(table.c.id == bindparam("message_id")).values(
            status=SENT, provider_id=bindparam("sent_provider_id"), sent_at=bindparam("at"),
            lease_until=None, leased_by=None, error=None),
        [{"message_id": m, "sent_provider_id": p, "at": at} for m, p, at in sent])
    # Once a provider has it, the copy of someone's answers goes. On the web chat the stored
    # reply is what the page shows: emptied, the person would never read it.
    await tx.execute(update(table).where(table.c.id.in_([m for m, _, _ in sent]),
                                         table.c.kind == PERSONAL_DATA,
                                         table.c.channel.not_in(SHOWN_FROM_STORAGE))
                     .values(text=""))


async def mark_retry(tx: AsyncSession, message_id: int, error: str, not_before: datetime) -> None:
    """Puts a message back in the queue after a transient failure."""
    await tx.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(
        status=PENDING, attempts=OutboxMessage.attempts + 1, error=error[:2000],
        not_before=not_before, lease_until=None, leased_by=None))


async def mark_final(tx: AsyncSession, message_id: int, status: str, error: str) -> None:
    """Ends a message that will not be delivered (failed or cancelled), with why."""
    await tx.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(
        status=status, attempts=OutboxMessage.attempts + 1, error=error[:2000],
        lease_until=None, leased_by=None))


async def cancel_pending(tx: AsyncSession, participant_id: int, reason: str) -> None:
    """Cancels every undelivered message of a participant."""
    await tx.execute(update(OutboxMessage).where(
        OutboxMessage.participant_id == participant_id,
        OutboxMessage.status.in_((PENDING, SENDING)),
        OutboxMessage.kind != OPT_OUT_CONFIRMATION,
    ).values(status=CANCELLED, error=reason))


async def undelivered(tx: AsyncSession, participant_id: int) -> int:
    """Counts a participant's messages still waiting for delivery."""
    rows = await tx.scalars(select(OutboxMessage.id).where(
        OutboxMessage.participant_id == participant_id,
        OutboxMessage.status.in_((PENDING, SENDING))))
    return len(list(rows))


async def record_delivery_status(tx: AsyncSession, provider_id: str, status: str,
                                 error_code: str | None, order: dict[str, int]) -> int | None:
    """Records a provider's delivery report if it moves the message forward.

    Returns the participant of the message, or None when no message has this provider id.
    """
    row = await tx.scalar(select(OutboxMessage).where(OutboxMessage.provider_id == provider_id))
    if row is None:
        return None
    # Callbacks arrive out of order and twice: "sent" after "delivered" changes nothing.
    if order.get(status, -1) > order.get(row.delivery_status or "", -1):
        row.delivery_status = status
        row.delivery_error = error_code
    return row.participant_id


async def release(tx: AsyncSession, message_id: int, not_before: datetime | None = None) -> None:
    """Gives a leased message back to the queue untouched, optionally for later."""
    values = {"status": PENDING, "lease_until": None, "leased_by": None}
    if not_before is not None:
        values["not_before"] = not_before
    await tx.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values))


async def last_created_of(tx: AsyncSession, participant_ids: list[int]) -> dict[int, datetime]:
    """Returns when each participant's latest message was queued, in one query."""
    rows = await tx.execute(
        select(OutboxMessage.participant_id, func.max(OutboxMessage.created_at))
        .where(OutboxMessage.participant_id.in_(participant_ids))
        .group_by(OutboxMessage.participant_id))
    return dict(rows.all())

"""Inbound messages: stored once per provider id, then processed in order per participant."""

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.inserts import insert_ignoring_duplicates
from storage.tables import InboundMessage, Participant

PENDING, PROCESSED, FAILED = "pending", "processed", "failed"


async def store(tx: AsyncSession, *, channel: str, provider_id: str, participant_id: int,
                text: str, payload: dict, received_at: datetime) -> int | None:
    """Stores a message and returns its id, or None when this provider id was already stored."""
    statement = insert_ignoring_duplicates(
        tx, InboundMessage,
        {"channel": channel, "provider_id": provider_id, "participant_id": participant_id,
         "text": text, "payload": payload, "received_at": received_at, "status": PENDING,
         "attempts": 0},
        ["channel", "provider_id"],
    ).returning(InboundMessage.id)
    return await tx.scalar(statement)


async def pending_participants(tx: AsyncSession, limit: int) -> list[int]:
    """Lists participants with unprocessed messages, those waiting longest first."""
    oldest = func.min(InboundMessage.id)
    rows = await tx.execute(
        select(InboundMessage.participant_id, oldest)
        .where(InboundMessage.status == PENDING)
        .group_by(InboundMessage.participant_id).order_by(oldest).limit(limit))
    return [participant_id for participant_id, _ in rows]


async def lock_participant(tx: AsyncSession, participant_id: int) -> bool:
    """Takes the participant's row lock, so one process at a time handles their messages."""
    statement = select(Participant.id).where(Participant.id == participant_id)
    if tx.bind.dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    # On SQLite the write transaction (BEGIN IMMEDIATE) already excludes other writers.
    return await tx.scalar(statement) is not None


async def oldest_pending(tx: AsyncSession, participant_id: int) -> InboundMessage | None:
    """Returns the participant's next message to process."""
    return await tx.scalar(
        select(InboundMessage)
        .where(InboundMessage.participant_id == participant_id,
               InboundMessage.status == PENDING)
        .order_by(InboundMessage.id).limit(1))


async def mark_processed(tx: AsyncSession, inbound_id: int, at: datetime) -> None:
    """Records that a message's turn was applied."""
    await tx.execute(update(InboundMessage).where(InboundMessage.id == inbound_id)
                     .values(status=PROCESSED, processed_at=at, error=None))


async def record_failure(tx: AsyncSession, inbound_id: int, error: str,
                         max_attempts: int) -> int:
    """Counts a failed attempt at a message, setting it aside after `max_attempts`."""
    message = await tx.get(InboundMessage, inbound_id)
    message.attempts += 1
    message.error = error[:2000]
    if message.attempts >= max_attempts:
        message.status = FAILED
    return message.attempts


async def status_of(tx: AsyncSession, inbound_id: int) -> str | None:
    """Returns the processing status of a message."""
    return await tx.scalar(select(InboundMessage.status).where(InboundMessage.id == inbound_id))


async def count_by_status(tx: AsyncSession) -> dict[str, int]:
    """Counts messages per processing status."""
    rows = await tx.execute(select(InboundMessage.status, func.count())
                            .group_by(InboundMessage.status))
    return dict(rows.all())


async def count_since(tx: AsyncSession, participant_id: int, since: datetime) -> int:
    """Counts a participant's messages received since a time."""
    return await tx.scalar(select(func.count()).select_from(InboundMessage).where(
        InboundMessage.participant_id == participant_id, InboundMessage.received_at >= since))

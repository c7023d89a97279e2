"""Inbound messages: stored once per provider id, then processed in order per participant."""

from datetime import datetime

from sqlalchemy import Row, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.inserts import insert_ignoring_duplicates
from storage.tables import InboundMessage, Participant

PENDING, PROCESSED, FAILED = "pending", "processed", "failed"
_TABLE = InboundMessage.__table__
# What a turn reads of a message: plain rows, no mapped objects.
_TURN_COLUMNS = tuple(_TABLE.c[name] for name in ("id", "participant_id", "channel", "text",
                                                  "payload", "received_at"))


async def store_many(tx: AsyncSession, messages: list[dict]) -> list[int | None]:
    """Stores messages (dicts of column values); for each, its new id or None if already stored."""
    if not messages:
        return []
    first: dict[tuple[str, str], int] = {}
    for index, message in enumerate(messages):
        first.setdefault((message["channel"], message["provider_id"]), index)
    rows = [dict(message, status=PENDING, attempts=0) for index, message in enumerate(messages)
            if first[(message["channel"], message["provider_id"])] == index]
    table = InboundMessage.__table__
    # executemany on the table: compiled once and cached, whatever the batch size.
    statement = insert_ignoring_duplicates(tx, table, None, ["channel", "provider_id"]) \
        .returning(table.c.id, table.c.channel, table.c.provider_id)
    inserted = await tx.execute(statement, rows)
    ids = {(channel, provider_id): inbound_id for inbound_id, channel, provider_id in inserted}
    # A copy later in the same batch is a redelivery too.
    return [ids.get((m["channel"], m["provider_id"])) if first[(m["channel"], m["provider_id"])]
            == index else None for index, m in enumerate(messages)]


async def pending_participants(tx: AsyncSession, limit: int,
                               messages: int | None = None) -> list[int]:
    """Lists participants with unprocessed messages, those waiting longest first; with
    `messages`, only the senders of that many oldest pending messages."""
    pending = select(_TABLE.c.id, _TABLE.c.participant_id).where(_TABLE.c.status == PENDING)
    if messages is not None:
        # A batch takes the oldest messages anyway: reading those few beats grouping them all.
        pending = pending.order_by(_TABLE.c.id).limit(messages)
    pending = pending.subquery()
    oldest = func.min(pending.c.id)
    rows = await tx.execute(select(pending.c.participant_id).group_by(pending.c.participant_id)
                            .order_by(oldest).limit(limit))
    return list(rows.scalars())


async def lock_participants(tx: AsyncSession, participant_ids: list[int]) -> list[int]:
    """Takes participants' row locks, skipping those another process holds; returns the taken."""
    statement = select(Participant.id).where(Participant.id.in_(participant_ids))
    if tx.bind.dialect.name == "postgresql":
        statement = statement.order_by(Participant.id).with_for_update(skip_locked=True)
    # On SQLite the write transaction (BEGIN IMMEDIATE) already excludes other writers.
    return list(await tx.scalars(statement))


async def pending_of(tx: AsyncSession, participant_ids: list[int], limit: int) -> list[Row]:
    """Returns the pending messages of some participants, oldest first: id, participant_id,
    channel, text, payload and received_at each."""
    if not participant_ids:
        return []
    return list(await tx.execute(
        select(*_TURN_COLUMNS)
        .where(_TABLE.c.participant_id.in_(participant_ids), _TABLE.c.status == PENDING)
        .order_by(_TABLE.c.id).limit(limit)))


async def oldest_pending(tx: AsyncSession, participant_id: int) -> Row | None:
    """Returns the participant's next message to process, with `pending_of`'s columns."""
    return (await tx.execute(
        select(*_TURN_COLUMNS)
        .where(_TABLE.c.participant_id == participant_id, _TABLE.c.status == PENDING)
        .order_by(_TABLE.c.id).limit(1))).first()


async def mark_processed(tx: AsyncSession, inbound_ids: list[int], at: datetime,
                         forget: list[int] = ()) -> None:
    """Records that messages' turns were applied, and empties the text of those in `forget`
    (the row stays, so a redelivery is still recognised)."""
    table = InboundMessage.__table__
    if inbound_ids:
        await tx.execute(update(table).where(table.c.id.in_(inbound_ids))
                         .values(status=PROCESSED, processed_at=at, error=None))
    if forget:
        await tx.execute(update(table).where(table.c.id.in_(forget)).values(text=""))


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


async def counts_since(tx: AsyncSession, participant_ids: list[int],
                       since: datetime) -> dict[int, int]:
    """Counts each participant's already handled messages received since a time."""
    rows = await tx.execute(
        select(InboundMessage.participant_id, func.count())
        .where(InboundMessage.participant_id.in_(participant_ids),
               InboundMessage.received_at >= since, InboundMessage.status != PENDING)
        .group_by(InboundMessage.participant_id))
    return dict(rows.all())

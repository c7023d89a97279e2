"""Workers' heartbeats: what a worker was sending goes back to the queue when it stops or
dies, at once, not when its lease runs out."""

import os
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from storage import outbox, workers
from storage.tables import OutboxMessage, Participant

NOW = datetime(2027, 3, 15, 10, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)
STALE = timedelta(seconds=8)


async def sending(db, pid: int) -> tuple[int, int]:
    """A worker with this pid holding the lease of one reply; returns both ids."""
    async with db.transaction() as tx:
        person = Participant(pseudonym="p", channel="sms", created_at=NOW)
        tx.add(person)
        await tx.flush()
        outbox.enqueue(tx, participant_id=person.id, channel="sms", text="Bonjour", at=NOW)
        worker_id = await workers.register(tx, "machine", pid, NOW)
        claimed = await outbox.claim(tx, ["sms"], NOW, LEASE, 10, worker_id)
    assert len(claimed) == 1
    return worker_id, claimed[0].id


async def status(db, message_id: int) -> tuple[str, int | None]:
    async with db.read() as tx:
        row = await tx.get(OutboxMessage, message_id)
        return row.status, row.leased_by


async def test_a_worker_that_stops_puts_back_what_it_was_sending(db):
    worker_id, message_id = await sending(db, os.getpid())
    assert await status(db, message_id) == ("sending", worker_id)
    async with db.transaction() as tx:
        assert await workers.stop(tx, worker_id, NOW + timedelta(seconds=1)) == 1
    assert await status(db, message_id) == ("pending", None)
    async with db.transaction() as tx:  # due again at once, for the next worker
        again = await outbox.claim(tx, ["sms"], NOW + timedelta(seconds=2), LEASE, 10, None)
    assert [m.id for m in again] == [message_id]


async def test_a_dead_worker_is_found_by_its_pid_or_its_silence(db):
    gone = 2**22 + 12345  # above the kernel's usual pid_max: no such process
    worker_id, message_id = await sending(db, gone)
    async with db.transaction() as tx:
        here = await workers.dead(tx, "machine", NOW + timedelta(seconds=1), STALE)
        elsewhere = await workers.dead(tx, "other", NOW + timedelta(seconds=1), STALE)
        silent = await workers.dead(tx, "other", NOW + STALE + timedelta(seconds=1), STALE)
        assert (here, elsewhere, silent) == ([worker_id], [], [worker_id])
        assert await workers.bury(tx, here, NOW) == 1
    assert await status(db, message_id) == ("pending", None)
    async with db.read() as tx:
        assert await tx.scalar(select(workers.Worker.stopped_at)) is not None

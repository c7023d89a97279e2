"""Workers and their heartbeats: who is alive, so that a dead worker's work is taken back at
once rather than when its leases run out."""

import os
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.tables import OutboxMessage, Worker

SENDING, PENDING = "sending", "pending"


async def register(tx: AsyncSession, host: str, pid: int, at: datetime) -> int:
    """Records a worker starting; returns its id."""
    worker = Worker(host=host, pid=pid, started_at=at, heartbeat_at=at)
    tx.add(worker)
    await tx.flush()
    return worker.id


async def beat(tx: AsyncSession, worker_id: int, at: datetime) -> None:
    """Records that a worker is alive."""
    await tx.execute(update(Worker).where(Worker.id == worker_id).values(heartbeat_at=at)
                     .execution_options(synchronize_session=False))


async def stop(tx: AsyncSession, worker_id: int, at: datetime) -> int:
    """Records that a worker stopped and puts back in the queue what it was still sending (a
    stop cancels the sends in flight); returns how many messages were put back. Without it,
    nobody would take them back: a stopped worker is not dead, so its leases would have to
    run out."""
    return await bury(tx, [worker_id], at)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


async def dead(tx: AsyncSession, host: str, now: datetime, stale: timedelta) -> list[int]:
    """Returns the workers not stopped that are dead: silent for longer than `stale`, or on
    this host with no process left under their pid (a crash seen at once)."""
    rows = await tx.execute(select(Worker.id, Worker.host, Worker.pid, Worker.heartbeat_at)
                            .where(Worker.stopped_at.is_(None)))
    return [worker_id for worker_id, worker_host, pid, heartbeat in rows
            if heartbeat < now - stale or (worker_host == host and not _pid_alive(pid))]


async def alive(tx: AsyncSession, host: str, now: datetime, stale: timedelta) -> int:
    """Counts the workers alive now."""
    rows = await tx.execute(select(Worker.host, Worker.pid, Worker.heartbeat_at)
                            .where(Worker.stopped_at.is_(None),
                                   Worker.heartbeat_at >= now - stale))
    return sum(1 for worker_host, pid, _ in rows if worker_host != host or _pid_alive(pid))


async def bury(tx: AsyncSession, worker_ids: list[int], at: datetime) -> int:
    """Marks dead workers stopped and puts the messages they were sending back in the queue;
    returns how many messages were taken back."""
    if not worker_ids:
        return 0
    await tx.execute(update(Worker).where(Worker.id.in_(worker_ids),
                                          Worker.stopped_at.is_(None))
                     .values(stopped_at=at).execution_options(synchronize_session=False))
    taken = await tx.execute(
        update(OutboxMessage).where(OutboxMessage.status == SENDING,
                                    OutboxMessage.leased_by.in_(worker_ids))
        .values(status=PENDING, lease_until=None, leased_by=None)
        .execution_options(synchronize_session=False))
    return taken.rowcount or 0


async def forget_stopped(tx: AsyncSession, before: datetime) -> None:
    """Deletes the rows of workers stopped long ago (the table stays a handful of rows)."""
    await tx.execute(delete(Worker).where(Worker.stopped_at < before)
                     .execution_options(synchronize_session=False))

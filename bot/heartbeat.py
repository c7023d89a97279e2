"""A worker's heartbeat: says it is alive, takes back at once what dead workers held, and
stops a supervised worker whose parent is gone."""

import asyncio
import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta

from storage import workers
from storage.database import Database

log = logging.getLogger(__name__)

BEAT_SECONDS = 2.0
# Silent this long, a worker is dead (on another machine; on this one a vanished pid says it
# at once). Several beats, so that a busy moment is not taken for a death.
STALE = timedelta(seconds=8)
FORGET_STOPPED = timedelta(days=7)


class Heartbeat:
    """Registers this process as a worker and keeps it known as alive."""

    def __init__(self, db: Database, clock: Callable[[], datetime],
                 taken_back: Callable[[int], None],
                 parent_pid: int | None = None) -> None:
        self.db = db
        self.clock = clock
        self.taken_back = taken_back  # told how many messages were taken back, to wake senders
        self.parent_pid = parent_pid
        self.host = socket.gethostname()
        self.worker_id: int | None = None
        self.parent_gone = asyncio.Event()

    async def register(self) -> int:
        """Records this worker and takes back what dead workers held; returns its id."""
        async with self.db.transaction() as tx:
            self.worker_id = await workers.register(tx, self.host, os.getpid(), self.clock())
        await self.check()
        return self.worker_id

    async def check(self) -> int:
        """Beats once and buries the dead; returns how many messages were taken back."""
        now = self.clock()
        async with self.db.transaction() as tx:
            await workers.beat(tx, self.worker_id, now)
            dead = [w for w in await workers.dead(tx, self.host, now, STALE)
                    if w != self.worker_id]
            taken = await workers.bury(tx, dead, now)
            await workers.forget_stopped(tx, now - FORGET_STOPPED)
        if dead:
            log.warning("%s worker(s) arrêté(s) sans prévenir : %s message(s) repris",
                        len(dead), taken, extra={"dead_workers": dead, "taken_back": taken})
        if taken:
            self.taken_back(taken)
        return taken

    async def run(self) -> None:
        """Beats until cancelled, or until the supervising parent process is gone."""
        while True:
            await asyncio.sleep(BEAT_SECONDS)
            if self.parent_pid is not None and os.getppid() != self.parent_pid:
                log.error("le processus parent %s a disparu : arrêt du worker", self.parent_pid)
                self.parent_gone.set()
                return
            try:
                await self.check()
            except Exception:  # a database hiccup: the next beat tries again
                log.exception("battement de cœur du worker non enregistré")

    async def stop(self) -> None:
        """Records a clean stop, so that nobody waits for this worker's heartbeat to age."""
        if self.worker_id is None:
            return
        async with self.db.transaction() as tx:
            await workers.stop(tx, self.worker_id, self.clock())

"""Keeps the tallies the admin pages read up to date: a pass every few seconds, in the worker."""

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from storage import tallies
from storage.database import UNAVAILABLE, Database

log = logging.getLogger(__name__)
# Pages stay exact between passes (they recount the days changed since); a pass only keeps
# that recount small.
PASS_SECONDS = 10.0


class Tallying:
    """The worker's loop over the consultations' tallies."""

    def __init__(self, db: Database, consultation_ids: Iterable[str],
                 clock: Callable[[], datetime]) -> None:
        self.db = db
        self.consultation_ids = tuple(consultation_ids)
        self.clock = clock

    async def run_once(self) -> int:
        """Refreshes every consultation's tallies once; returns the days recounted."""
        recounted = 0
        for consultation_id in self.consultation_ids:
            recounted += await tallies.refresh(self.db, consultation_id, self.clock())
        return recounted

    async def run(self) -> None:
        """Refreshes until cancelled; a database down is retried at the next pass."""
        while True:
            try:
                await self.run_once()
            except UNAVAILABLE as error:
                log.warning("décomptes : base indisponible (%s), nouvel essai",
                            type(error).__name__)
            except Exception:
                log.exception("décomptes : erreur, nouvel essai")
            await asyncio.sleep(PASS_SECONDS)

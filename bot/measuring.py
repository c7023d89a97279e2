"""Measures the follow-up indicators Relais computes itself, once a day, in the worker."""

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from storage import plan_indicators
from storage.answer_queries import TRIAL_CHANNELS
from storage.database import UNAVAILABLE, Database
from storage.tallies import PARIS

log = logging.getLogger(__name__)
# Looked at every hour: the first pass of a Paris day measures, the others find it done.
PASS_SECONDS = 3600.0
START_SECONDS = 60.0  # not in the worker's first minute, when it has more urgent work


async def measure_once(db: Database, clock: Callable[[], datetime]) -> int:
    """Records today's automatic measurements still missing; returns how many."""
    now = clock()
    return await plan_indicators.measure(db, now.astimezone(PARIS).date(), now,
                                         TRIAL_CHANNELS)


async def run(db: Database, clock: Callable[[], datetime]) -> None:
    """Measures until cancelled; a database down is tried again at the next pass."""
    await asyncio.sleep(START_SECONDS)
    while True:
        try:
            recorded = await measure_once(db, clock)
            if recorded:
                log.info("indicateurs du plan : %d mesure(s) du jour", recorded)
        except UNAVAILABLE as error:
            log.warning("indicateurs du plan : base indisponible (%s), nouvel essai",
                        type(error).__name__)
        except Exception:
            log.exception("indicateurs du plan : erreur, nouvel essai")
        await asyncio.sleep(PASS_SECONDS)

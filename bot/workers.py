"""Background loops that drain a queue, sleeping until woken or until a poll interval passes."""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


REPORT_SECONDS = 60.0  # one summary line per loop and minute, only when it did something


async def drain_forever(step: Callable[[], Awaitable[int]], wake: asyncio.Event,
                        idle_seconds: float, what: str) -> None:
    """Calls `step` until cancelled; when it finds nothing to do, waits for `wake` or a poll.
    Logs one line a minute with how much it did, not one per message."""
    handled, since = 0, time.monotonic()
    while True:
        try:
            done = await step()
        except Exception:
            log.exception("%s : erreur, nouvel essai", what)
            done = 0
        handled += done
        if time.monotonic() - since >= REPORT_SECONDS:
            if handled:
                log.info("%s : %s en %.0f s", what, handled, time.monotonic() - since,
                         extra={"loop": what, "handled": handled})
            handled, since = 0, time.monotonic()
        if not done:
            wake.clear()
            # The poll catches work queued by another process, which cannot set our event.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), idle_seconds)


async def wait_until(check: Callable[[], Awaitable[bool]], changed: asyncio.Condition,
                     seconds: float) -> bool:
    """Waits until `check()` holds, re-checking when `changed` is notified; False on timeout."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            while not await check():
                async with changed:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(changed.wait(), 0.25)
            return True
    return False

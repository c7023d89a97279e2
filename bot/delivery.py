"""The outbox sender: delivers queued replies through their channel, with retries and leases."""

import asyncio
import logging
import random
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import Enum

from bot import quiet_hours
from bot.channels.base import Channel, DeliveryError, OutgoingMessage
from bot.group_commit import GroupCommit
from bot.ratelimit import RateLimiter
from bot.workers import drain_forever
from storage import outbox, participants
from storage.clock import utcnow
from storage.database import Database
from storage.vault import Vault

log = logging.getLogger(__name__)

# A sender that dies mid-send frees its messages after this; longer than any send can take.
LEASE = timedelta(seconds=120)
MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 600.0
IDLE_POLL_SECONDS = 1.0
BATCH = 100


class _Outcome(Enum):
    """What one delivery means for the participant's next messages."""

    DONE = "done"  # sent, or ended for good: the next may go
    WAIT = "wait"  # put back for later: the next wait behind it
    STOPPED = "stopped"  # the recipient is gone: the next are cancelled


async def _mark_sent(tx, sent: list[tuple[int, str | None, datetime]]) -> list[None]:
    await outbox.mark_sent(tx, list(sent))
    return [None] * len(sent)


def backoff(attempts: int, retry_after: float | None = None) -> float:
    """Returns the wait before the next try: capped exponential, jittered, ≥ retry_after."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** attempts)
    wait = random.uniform(ceiling / 2, ceiling)
    return max(wait, retry_after or 0.0)


class Delivery:
    """Sends what the outbox holds, once, in order per participant, within rate limits."""

    def __init__(self, db: Database, vault: Vault, channels: dict[str, Channel],
                 wake: asyncio.Event, limits: dict[str, RateLimiter] | None = None,
                 clock: Callable[[], datetime] = utcnow, lease: timedelta = LEASE) -> None:
        self.db = db
        self.vault = vault
        self.channels = channels
        self.wake = wake
        self.limits = limits or {}
        self.clock = clock
        self.lease = lease
        self.sent = asyncio.Condition()
        self._marks = GroupCommit(db, _mark_sent)
        self.worker_id: int | None = None  # set once the worker is registered

    async def run(self) -> None:
        """Delivers until cancelled, waking when replies are queued."""
        await drain_forever(self.run_once, self.wake, IDLE_POLL_SECONDS, "envoi")

    async def close(self) -> None:
        """Waits for the marks in flight, so none outlives the database it writes to."""
        await self._marks.close()

    async def run_once(self, limit: int = BATCH) -> int:
        """Delivers the messages due now; returns how many were handled."""
        async with self.db.transaction() as tx:
            claimed = await outbox.claim(tx, self.channels, self.clock(), self.lease, limit,
                                         self.worker_id)
            addresses = await participants.addresses_of(
                tx, self.vault, {m.participant_id for m in claimed})
        by_participant: dict[int, list[outbox.Claimed]] = defaultdict(list)
        for message in claimed:
            by_participant[message.participant_id].append(message)
        # One participant's messages in order; different participants side by side.
        await asyncio.gather(*(self._deliver_in_order(messages, addresses.get(pid))
                               for pid, messages in by_participant.items()))
        if claimed:
            async with self.sent:
                self.sent.notify_all()
        return len(claimed)

    async def _deliver_in_order(self, messages: list[outbox.Claimed],
                                address: str | None) -> None:
        held = None  # why the rest of this participant's messages cannot go now
        for message in messages:
            if held is None:
                outcome = await self._deliver(message, address)
                if outcome is _Outcome.STOPPED:
                    held = "participant stopped"
                # A reply waiting for a retry holds back those after it, to keep the order;
                # a feedback waiting for daytime holds back nothing.
                elif outcome is _Outcome.WAIT and message.kind in outbox.CONVERSATIONAL:
                    held = "waiting"
                continue
            async with self.db.transaction() as tx:
                if held == "waiting":
                    await outbox.release(tx, message.id)
                else:
                    await outbox.mark_final(tx, message.id, outbox.CANCELLED, held)

    async def _deliver(self, message: outbox.Claimed, address: str | None) -> "_Outcome":
        """Delivers one message and says whether the ones after it may follow."""
        if message.stopped and message.kind != outbox.OPT_OUT_CONFIRMATION:
            await self._end(message.id, outbox.CANCELLED, "participant stopped")
            return _Outcome.DONE
        channel = self.channels.get(message.channel)
        if channel is None or address is None:
            reason = "no such channel configured" if channel is None else "address erased"
            await self._end(message.id, outbox.FAILED, reason)
            return _Outcome.DONE
        # Replies go out at once; what Relais starts waits for the hours it may write in.
        if message.kind not in outbox.CONVERSATIONAL:
            allowed = quiet_hours.next_allowed(self.clock())
            if allowed > self.clock():
                async with self.db.transaction() as tx:
                    await outbox.release(tx, message.id, not_before=allowed)
                return _Outcome.WAIT
        limiter = self.limits.get(message.channel)
        if limiter is not None:
            await limiter.wait(address)
        outgoing = OutgoingMessage(message.text, tuple(tuple(c) for c in message.choices),
                                   message.question_id)
        try:
            provider_id = await channel.send(address, outgoing)
        except DeliveryError as error:
            if error.retry_after and limiter is not None:
                limiter.pause(error.retry_after)  # the provider throttles the whole sender
            return await self._failed(message, error)
        except Exception as error:  # an unexpected client error: retry, but say so
            log.exception("canal %s : erreur inattendue à l'envoi", message.channel)
            return await self._failed(message, DeliveryError(repr(error)))
        # Marks are group-committed: sends finishing together share one transaction.
        await self._marks.submit((message.id, provider_id, self.clock()))
        return _Outcome.DONE

    async def _failed(self, message: outbox.Claimed, error: DeliveryError) -> "_Outcome":
        async with self.db.transaction() as tx:
            if error.recipient_stopped:
                await participants.set_stopped(tx, message.participant_id, self.clock())
            if error.permanent or message.attempts + 1 >= MAX_ATTEMPTS:
                log.warning("message %s abandonné : %s", message.id, error)
                await outbox.mark_final(tx, message.id, outbox.FAILED, str(error))
                return _Outcome.STOPPED if error.recipient_stopped else _Outcome.DONE
            wait = backoff(message.attempts, error.retry_after)
            await outbox.mark_retry(tx, message.id, str(error),
                                    self.clock() + timedelta(seconds=wait))
            return _Outcome.WAIT

    async def _end(self, message_id: int, status: str, reason: str) -> None:
        async with self.db.transaction() as tx:
            await outbox.mark_final(tx, message_id, status, reason)

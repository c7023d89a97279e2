"""Pacing of one channel's outgoing messages: per-address spacing, an overall rate, pauses."""

from __future__ import annotations

import asyncio
import bisect
import heapq
import math
import time
from collections.abc import Awaitable, Callable

# The overall spacing is stretched by one part per million so that rounding in the summed float
# slot times can never squeeze one message more than allowed into a one-second window.
_SPACING_MARGIN = 1e-6


class RateLimiter:
    """Hands out send slots so that neither an address nor the channel goes too fast."""

    def __init__(self, per_address_interval: float | None, per_second: float | None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep) -> None:
        """Takes the minimum seconds between two sends to one address and the overall rate."""
        for name, value in (("per_address_interval", per_address_interval),
                            ("per_second", per_second)):
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number or None, not {value!r}")
        self._address_interval = per_address_interval
        # Evenly spaced slots rather than bursts of per_second: a provider that counts over
        # windows of its own choosing never sees more than the rate in any of them.
        self._spacing = None if per_second is None else (1 + _SPACING_MARGIN) / per_second
        self._clock = clock
        self._sleep = sleep
        # Slots live on a virtual timeline that stands still during pauses (real = virtual +
        # offset), so a pause pushes back the slots already handed out and keeps their spacing.
        self._offset = 0.0
        self._paused_until = -math.inf
        # Slots booked for the overall rate, sorted; a caller takes the first gap wide enough, so
        # one address's queue far ahead does not hold back the others.
        self._booked: list[float] = []
        self._next_by_address: dict[str, float] = {}
        # (time from which the address is free again, address), to forget addresses in order.
        self._expiries: list[tuple[float, str]] = []

    @property
    def tracked_addresses(self) -> int:
        """Returns how many addresses are remembered because their last slot is still recent."""
        return len(self._next_by_address)

    async def wait(self, address: str) -> None:
        """Returns once a message to `address` may be sent, the slot being the caller's."""
        # Reserved before any await, so concurrent callers queue in call order, not all at once.
        slot = self._reserve(address, self._clock())
        while True:
            now = self._clock()
            # Read afresh on every turn: a pause that began while this caller slept moves its slot.
            due = max(slot + self._offset, self._paused_until)
            if now >= due:
                return
            await self._sleep(due - now)

    def pause(self, seconds: float) -> None:
        """Holds every sender back for `seconds` from now, as a provider's flood control asks."""
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"a pause must last a finite, non-negative time, not {seconds!r}")
        now = self._clock()
        until = now + seconds
        if until <= self._paused_until:
            return  # a shorter pause never cuts a longer one short
        # Stop the virtual clock until `until`: it reads the same then as it does now.
        self._offset += until - max(now, self._paused_until)
        self._paused_until = until

    def _reserve(self, address: str, now: float) -> float:
        """Books the earliest slot allowed for `address` and returns it in virtual time."""
        current = max(now, self._paused_until) - self._offset
        self._forget_idle(current)
        slot = current
        if self._address_interval is not None:
            slot = max(slot, self._next_by_address.get(address, current))
        if self._spacing is not None:
            slot = self._book_overall(slot, current, self._spacing)
        if self._address_interval is not None:
            free_again = slot + self._address_interval
            self._next_by_address[address] = free_again
            heapq.heappush(self._expiries, (free_again, address))
        return slot

    def _book_overall(self, earliest: float, current: float, spacing: float) -> float:
        """Books and returns the first time from `earliest` one spacing away from every booking."""
        # Bookings a spacing older than now can clash with nothing any more.
        del self._booked[:bisect.bisect_right(self._booked, current - spacing)]
        slot = earliest
        for booked in self._booked[bisect.bisect_right(self._booked, slot - spacing):]:
            if booked >= slot + spacing:
                break
            slot = booked + spacing
        bisect.insort(self._booked, slot)
        return slot

    def _forget_idle(self, current: float) -> None:
        """Drops addresses whose last slot is at least one interval old, keeping memory bounded."""
        while self._expiries and self._expiries[0][0] <= current:
            free_again, address = heapq.heappop(self._expiries)
            # A later slot for the same address pushed its own entry; only the newest counts.
            if self._next_by_address.get(address) == free_again:
                del self._next_by_address[address]

"""The rate limiter spaces sends per address and overall, and honours pauses, on a fake clock."""

import asyncio
import heapq
import itertools
import time
from bisect import bisect_left

import pytest

from bot.ratelimit import RateLimiter

START = 100.0  # not zero, so that "never sent" cannot hide behind a zero timestamp


class FakeClock:
    """A clock that only moves when every task run through it is asleep."""

    def __init__(self, start: float = START) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._sleepers: list[tuple[float, int, asyncio.Future]] = []
        self._order = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        wakeup = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._order), wakeup))
        await wakeup

    async def run(self, *coroutines):
        """Runs the coroutines together, jumping to the next wake-up whenever all of them sleep."""
        tasks = [asyncio.ensure_future(c) for c in coroutines]
        for _ in range(100_000):
            running = sum(not task.done() for task in tasks)
            if running == 0:
                return [task.result() for task in tasks]
            if len(self._sleepers) < running:
                await asyncio.sleep(0)  # a task is still on its way to its next sleep
                continue
            deadline, _, wakeup = heapq.heappop(self._sleepers)
            self.now = max(self.now, deadline)
            wakeup.set_result(None)
        raise AssertionError("the tasks never finished")


def limiter_on(clock: FakeClock, per_address: float | None, per_second: float | None):
    return RateLimiter(per_address, per_second, clock=clock, sleep=clock.sleep)


async def send_all(clock: FakeClock, limiter: RateLimiter, addresses, sent, *alongside):
    """Sends to each address concurrently, logging (seconds since START, address) on each send."""

    async def send(address):
        await limiter.wait(address)
        sent.append((clock.now - START, address))

    await clock.run(*(send(address) for address in addresses), *alongside)
    return sent


def most_in_one_second(times) -> int:
    """Returns the largest number of sends inside any half-open window [t, t + 1)."""
    times = sorted(times)
    return max(bisect_left(times, t + 1.0) - i for i, t in enumerate(times))


def times_of(sent, address=None):
    return [t for t, a in sent if address is None or a == address]


async def test_three_messages_to_one_chat_go_out_a_second_apart():
    clock = FakeClock()
    limiter = limiter_on(clock, 1.0, 30)
    sent = []

    async def sender():
        for _ in range(3):
            await limiter.wait("chat")
            sent.append(clock.now - START)

    await clock.run(sender())
    assert sent == pytest.approx([0.0, 1.0, 2.0])


async def test_sixty_chats_at_thirty_per_second_take_two_seconds():
    clock = FakeClock()
    sent = await send_all(clock, limiter_on(clock, 1.0, 30), [f"chat{i}" for i in range(60)], [])
    times = times_of(sent)
    assert len(times) == 60
    assert 59 / 30 <= max(times) < 2.0
    assert most_in_one_second(times) == 30
    assert [a for _, a in sent] == [f"chat{i}" for i in range(60)]  # first come, first served


async def test_a_busy_chat_neither_breaks_its_own_spacing_nor_holds_the_others_back():
    clock = FakeClock()
    addresses = ["busy"] * 5 + [f"chat{i}" for i in range(40)]
    sent = await send_all(clock, limiter_on(clock, 1.0, 30), addresses, [])
    busy = times_of(sent, "busy")
    others = [t for t, a in sent if a != "busy"]
    assert busy == pytest.approx([0.0, 1.0, 2.0, 3.0, 4.0])
    assert max(others) < 45 / 30  # in the overall queue's pace, not behind "busy"
    assert most_in_one_second(times_of(sent)) <= 30


async def test_concurrent_waiters_for_one_address_get_successive_slots():
    clock = FakeClock()
    sent = await send_all(clock, limiter_on(clock, 1.0, None), ["chat"] * 5, [])
    assert times_of(sent) == pytest.approx([0.0, 1.0, 2.0, 3.0, 4.0])


async def test_sms_rate_is_overall_only():
    clock = FakeClock()
    numbers = ["+33600000001", "+33600000001", "+33600000002", "+33600000003"]
    sent = await send_all(clock, limiter_on(clock, None, 2), numbers, [])
    assert times_of(sent) == pytest.approx([0.0, 0.5, 1.0, 1.5], abs=1e-5)


@pytest.mark.parametrize(("per_address", "per_second", "addresses", "expected"), [
    (None, None, ["a"] * 50, [0.0] * 50),
    (None, 10, ["a", "a", "a"], [0.0, 0.1, 0.2]),
    (1.0, None, ["a", "b", "c", "a"], [0.0, 0.0, 0.0, 1.0]),
], ids=["no-limit-no-wait", "overall-only", "per-address-only"])
async def test_a_missing_limit_imposes_no_wait(per_address, per_second, addresses, expected):
    clock = FakeClock()
    sent = await send_all(clock, limiter_on(clock, per_address, per_second), addresses, [])
    assert sorted(times_of(sent)) == pytest.approx(expected, abs=1e-5)
    if per_address is None and per_second is None:
        assert clock.sleeps == []


async def test_a_pause_holds_back_the_next_send():
    clock = FakeClock()
    limiter = limiter_on(clock, 1.0, 30)
    sent = await send_all(clock, limiter, ["a"], [])
    limiter.pause(7)
    sent = await send_all(clock, limiter, ["b"], sent)
    assert times_of(sent, "b")[0] >= 7.0


async def test_a_pause_moves_the_slots_already_handed_out_and_keeps_their_spacing():
    clock = FakeClock()
    limiter = limiter_on(clock, 1.0, 30)
    sent = []

    async def flood_control_at_half_a_second():
        await clock.sleep(0.5)
        limiter.pause(7)

    await send_all(clock, limiter, ["chat"] * 3 + ["other"], sent,
                   flood_control_at_half_a_second())
    chat = times_of(sent, "chat")
    assert chat[0] == 0.0
    assert chat[1] >= 7.5 and chat[2] - chat[1] >= 1.0
    assert times_of(sent, "other") == pytest.approx([1 / 30], abs=1e-5)  # sent before the 429


async def test_a_shorter_pause_does_not_cut_a_longer_one_short():
    clock = FakeClock()
    limiter = limiter_on(clock, None, None)
    limiter.pause(7)
    clock.now += 3
    limiter.pause(1)
    sent = await send_all(clock, limiter, ["a"], [])
    assert times_of(sent) == pytest.approx([7.0])


async def test_addresses_are_forgotten_once_their_interval_has_passed():
    clock = FakeClock()
    limiter = limiter_on(clock, 1.0, 30)
    await send_all(clock, limiter, [f"chat{i}" for i in range(60)], [])
    assert 0 < limiter.tracked_addresses <= 60
    clock.now += 1.0
    now = clock.now - START
    sent = await send_all(clock, limiter, ["chat0", "new"], [])
    assert limiter.tracked_addresses == 2
    assert times_of(sent, "chat0") == [now]  # chat0's old slot no longer counts


async def test_memory_stays_bounded_over_a_long_run():
    clock = FakeClock()
    limiter = limiter_on(clock, 1.0, 30)
    tracked = []

    async def sender():
        for i in range(3000):
            await limiter.wait(f"chat{i}")
            tracked.append(limiter.tracked_addresses)

    await clock.run(sender())
    assert max(tracked) <= 31  # the addresses of the last second only


@pytest.mark.parametrize(("per_address", "per_second"), [
    (0, None), (-1.0, None), (None, 0), (None, float("inf")), (float("nan"), None)])
def test_limits_must_be_positive_numbers(per_address, per_second):
    with pytest.raises(ValueError):
        RateLimiter(per_address, per_second)


@pytest.mark.parametrize("seconds", [-1.0, float("nan"), float("inf")])
def test_a_pause_must_be_finite_and_not_negative(seconds):
    with pytest.raises(ValueError):
        RateLimiter(None, None).pause(seconds)


async def test_real_clock_smoke():
    limiter = RateLimiter(0.05, 200)
    start = time.monotonic()
    sent = []

    async def send(address):
        await limiter.wait(address)
        sent.append((time.monotonic() - start, address))

    async with asyncio.timeout(30):  # a deadline for a hang, not a speed limit
        await asyncio.gather(*(send(a) for a in ["a", "a", "a", "b", "c"]))
    a = times_of(sent, "a")
    # Each send happens no earlier than its slot, and the k-th slot of "a" is k intervals in.
    assert len(a) == 3 and all(t >= k * 0.05 for k, t in enumerate(a))
    assert sorted(address for _, address in sent) == ["a", "a", "a", "b", "c"]

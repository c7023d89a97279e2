"""The flood rule, on the test clock: past 20 messages a minute, answered once every 5 seconds.

The numbers are written here, not imported from the product: the README promises them.
"""

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import build
from storage.tables import OutboxMessage
from tests.bot.conversation import T0, RecordingChannel, incoming


class Clock:
    """The processor's time, set by the test."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self):
        return self.now


@pytest.fixture
async def flood(settings, db):
    """Relais whose processor runs on a clock the test sets; returns a sender."""
    relais = build(settings, channels=[RecordingChannel("web")])
    await relais.prepare()
    clock = Clock()
    relais.processor.clock = clock

    async def send(seconds: float, address: str = "flooder", text: str = "AIDE") -> int:
        """Receives and processes one message at T0 + seconds; returns how many replies."""
        at = T0 + timedelta(seconds=seconds)
        clock.now = at
        inbound_id = await relais.inbox.receive(incoming(text, address=address, at=at))
        assert await relais.processor.run_once() == 1
        async with relais.db.read() as tx:
            return len(list(await tx.scalars(
                select(OutboxMessage).where(OutboxMessage.inbound_id == inbound_id))))

    yield send
    await relais.stop()


async def test_twenty_messages_a_minute_are_all_answered_then_one_every_five_seconds(flood):
    # One message a second: the first 20 are not a flood.
    for second in range(20):
        assert await flood(second) > 0, f"message {second + 1} of 20 went unanswered"
    # The 21st within the minute is a flood: its replies are held back 5 s after the last one.
    assert await flood(20) == 0  # 1 s after the last reply
    assert await flood(23.9) == 0  # 4.9 s after
    assert await flood(24) > 0  # 5 s after: answered
    assert await flood(25) == 0
    assert await flood(28.9) == 0
    assert await flood(29) > 0
    assert await flood(30.5) == 0


async def test_the_twentieth_message_is_answered_and_the_twenty_first_is_not(flood):
    # All at the same second: only the count tells them apart.
    for number in range(1, 21):
        assert await flood(0) > 0, f"message {number} went unanswered"
    assert await flood(0) == 0


async def test_the_count_covers_one_minute(flood):
    for _ in range(10):
        assert await flood(0) > 0
    for _ in range(10):
        assert await flood(56) > 0  # 20 in 56 s: still no flood
    # 21 within the last minute, 2 s after the last reply: held back.
    assert await flood(58) == 0
    # At 60.5 s the ten of the first second have left the minute: 12 within it, no flood,
    # answered though the last reply was only 4.5 s ago.
    assert await flood(60.5) > 0


async def test_a_flood_holds_back_only_the_flooder(flood):
    for _ in range(21):
        await flood(0)
    assert await flood(1) == 0
    assert await flood(1, address="someone-else") > 0



async def test_stop_from_a_flooder_stops_even_when_its_confirmation_is_held_back(flood, db):
    from storage.tables import Participant

    for _ in range(21):
        await flood(0)
    # STOP 1 s after the last reply: its confirmation is held back, the opt-out is not.
    assert await flood(1, text="STOP") == 0
    async with db.read() as tx:
        (participant,) = list(await tx.scalars(select(Participant)))
    assert participant.stopped_at is not None

"""Drives conversations through the real inbox, processor and outbox, step by step."""

import itertools
from datetime import UTC, datetime, timedelta

from bot.channels.base import IncomingMessage, OutgoingMessage

_ids = itertools.count(1)
T0 = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


class RecordingChannel:
    """A channel that keeps what it was asked to deliver, per address."""

    def __init__(self, name: str = "web") -> None:
        self.name = name
        self.sent: list[tuple[str, OutgoingMessage]] = []

    async def send(self, address: str, message: OutgoingMessage) -> str:
        self.sent.append((address, message))
        return f"{self.name}-{len(self.sent)}"

    def texts(self, address: str) -> list[str]:
        return [m.text for a, m in self.sent if a == address]


def incoming(text: str, address: str = "alice", channel: str = "web",
             provider_id: str | None = None, at: datetime | None = None,
             **payload) -> IncomingMessage:
    """Builds a message as a channel would hand it over."""
    return IncomingMessage(channel=channel, address=address,
                           provider_id=provider_id or f"msg-{next(_ids)}", text=text,
                           received_at=at or T0 + timedelta(seconds=next(_ids)),
                           payload=payload)


async def say(relais, *texts: str, address: str = "alice", **payload) -> None:
    """Sends messages one at a time, processing and delivering after each."""
    for text in texts:
        await relais.inbox.receive(incoming(text, address, **payload))
        await relais.processor.run_once()
        await relais.delivery.run_once()

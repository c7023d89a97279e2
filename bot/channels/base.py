"""What every channel adapter receives and sends, and how it reports failures."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class IncomingMessage:
    """A message from a participant as a channel received it, before it is stored."""

    channel: str
    address: str  # normalised: E.164 for SMS, chat id for Telegram
    provider_id: str  # MessageSid, update_id…: the same id on every redelivery
    text: str
    received_at: datetime
    payload: dict = field(default_factory=dict)  # e.g. {"media": True}, {"invite": "K7M2QX"}


@dataclass(frozen=True)
class OutgoingMessage:
    """A message to deliver to one address."""

    text: str
    choices: tuple[tuple[str, str], ...] = ()  # (value, label): buttons where the channel has them
    question: str | None = None  # the step the buttons answer


@dataclass(frozen=True)
class Ignored:
    """A well-formed request that carries nothing to store; answered 200 so it is not resent."""

    reason: str


class WebhookError(Exception):
    """A request refused: forged (403), malformed (400) or of the wrong type (415)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class DeliveryError(Exception):
    """A delivery that failed; `permanent` ones are never retried."""

    def __init__(self, reason: str, *, permanent: bool = False,
                 retry_after: float | None = None, recipient_stopped: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent
        self.retry_after = retry_after
        self.recipient_stopped = recipient_stopped


class Channel(Protocol):
    """Delivers outgoing messages on one provider."""

    name: str

    async def send(self, address: str, message: OutgoingMessage) -> str | None:
        """Delivers a message; returns the provider's id for it, or raises DeliveryError."""
        ...

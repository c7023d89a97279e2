"""The inbox: stores what a channel received, durably and once, before anyone acknowledges it."""

import asyncio

from bot.channels.base import IncomingMessage
from storage import inbox, participants
from storage.database import Database
from storage.vault import Vault


class Inbox:
    """Persists incoming messages and wakes the processor."""

    def __init__(self, db: Database, vault: Vault) -> None:
        self.db = db
        self.vault = vault
        self.arrived = asyncio.Event()

    async def receive(self, message: IncomingMessage) -> int | None:
        """Stores a message; returns its id, or None when it is a redelivery already stored."""
        async with self.db.transaction() as tx:
            participant = await participants.find_or_create(
                tx, self.vault, message.channel, message.address, message.received_at)
            inbound_id = await inbox.store(
                tx, channel=message.channel, provider_id=message.provider_id,
                participant_id=participant.id, text=_clean(message.text),
                payload=message.payload, received_at=message.received_at)
        if inbound_id is not None:
            self.arrived.set()
        return inbound_id


def _clean(text: str) -> str:
    # PostgreSQL text refuses NUL, and lone surrogates cannot be encoded: neither is meaning.
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")

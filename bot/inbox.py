"""The inbox: stores what a channel received, durably and once, before anyone acknowledges it."""

import asyncio
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.base import IncomingMessage
from bot.group_commit import GroupCommit
from storage import inbox, participants
from storage.database import Database
from storage.vault import Vault


class Inbox:
    """Persists incoming messages, many per transaction under load, and wakes the processor."""

    def __init__(self, db: Database, vault: Vault) -> None:
        self.db = db
        self.vault = vault
        self.arrived = asyncio.Event()
        self._commits = GroupCommit(db, self._store)

    async def receive(self, message: IncomingMessage) -> int | None:
        """Stores a message; returns its id, or None when it is a redelivery already stored."""
        inbound_id = await self._commits.submit(message)
        if inbound_id is not None:
            self.arrived.set()
        return inbound_id

    async def close(self) -> None:
        """Waits for the writes in flight, so none outlives the database it writes to."""
        await self._commits.close()

    async def _store(self, tx: AsyncSession,
                     messages: Sequence[IncomingMessage]) -> list[int | None]:
        now = min(m.received_at for m in messages)
        ids = await participants.ids_of(
            tx, self.vault, {(m.channel, m.address) for m in messages}, now)
        return await inbox.store_many(tx, [
            {"channel": m.channel, "provider_id": m.provider_id,
             "participant_id": ids[(m.channel, m.address)], "text": _clean(m.text),
             "payload": m.payload, "received_at": m.received_at} for m in messages])


def _clean(text: str) -> str:
    # PostgreSQL text refuses NUL, and lone surrogates cannot be encoded: neither is meaning.
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")

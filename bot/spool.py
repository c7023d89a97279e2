"""A local, fsync'd spool for SMS received while the database is unreachable."""

import asyncio
import fcntl
import json
import logging
import os
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

from bot.channels.base import IncomingMessage

log = logging.getLogger(__name__)


class Spool:
    """Append-only JSON lines, drained into the inbox when the database is back."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "inbound.jsonl"

    def append(self, message: IncomingMessage) -> None:
        """Writes one message durably (fsync) before the webhook is acknowledged."""
        self.directory.mkdir(parents=True, exist_ok=True)
        line = json.dumps({
            "channel": message.channel, "address": message.address,
            "provider_id": message.provider_id, "text": message.text,
            "received_at": message.received_at.isoformat(), "payload": message.payload,
        }, ensure_ascii=False) + "\n"
        while True:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                # A drain may have moved the file away while we waited for the lock.
                if os.path.exists(self.path) and os.fstat(fd).st_ino == os.stat(self.path).st_ino:
                    os.write(fd, line.encode("utf-8"))
                    os.fsync(fd)
                    return
            finally:
                os.close(fd)

    def pending(self) -> bool:
        """Tells whether anything waits in the spool."""
        return any(self.directory.glob("*.jsonl*")) if self.directory.exists() else False

    def _claim(self) -> list[Path]:
        if not self.directory.exists():
            return []
        if self.path.exists():
            # Rename is atomic: new appends start a fresh file while this one is drained.
            os.replace(self.path, self.directory / f"inbound.jsonl.{os.getpid()}.draining")
        return sorted(self.directory.glob("inbound.jsonl.*.draining"))

    async def drain(self, receive: Callable[[IncomingMessage], Awaitable[object]]) -> int:
        """Moves spooled messages into the inbox; returns how many were handed over."""
        handed = 0
        for path in await asyncio.to_thread(self._claim):
            for line in await asyncio.to_thread(_read_locked, path):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    record["received_at"] = datetime.fromisoformat(record["received_at"])
                    message = IncomingMessage(**record)
                except (ValueError, TypeError, KeyError):
                    log.error("ligne illisible dans le spool %s, ignorée", path.name)
                    continue
                await receive(message)  # raises while the database is down; a duplicate is a no-op
                handed += 1
            path.unlink(missing_ok=True)
        return handed


def _read_locked(path: Path) -> list[str]:
    try:
        with open(path, "rb") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # waits for an append in progress
            return handle.read().decode("utf-8").splitlines()
    except FileNotFoundError:
        return []  # another drainer took this file and finished it first

"""A local, fsync'd spool: where messages wait when the database cannot take them at once.

Used for SMS received while the database is unreachable, and, with `RELAIS_INTAKE=journal`,
as the first durable write of every webhook (then moved into the database in batches).
"""

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path

from bot.channels.base import IncomingMessage
from bot.group_commit import Batches

log = logging.getLogger(__name__)


class Spool:
    """Append-only JSON lines, drained into the inbox when the database is back."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "inbound.jsonl"
        self._flushes: Batches[str, None] = Batches(self._append_batch)

    def append(self, message: IncomingMessage) -> None:
        """Writes one message durably (fsync) before the webhook is acknowledged."""
        self.append_lines([_line(message)])

    async def write(self, message: IncomingMessage) -> None:
        """Writes a message durably, one fsync for all the messages arriving meanwhile."""
        await self._flushes.submit(_line(message))

    async def close(self) -> None:
        """Waits for the writes in flight: each was promised to a webhook."""
        await self._flushes.close()

    async def _append_batch(self, lines: Sequence[str]) -> list[None]:
        await asyncio.to_thread(self.append_lines, list(lines))
        return [None] * len(lines)

    def append_lines(self, lines: list[str]) -> None:
        """Appends lines and flushes them to disk."""
        self.directory.mkdir(parents=True, exist_ok=True)
        data = "".join(lines).encode("utf-8")
        while True:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                # A drain may have moved the file away while we waited for the lock, or moves
                # it now: then this file is the drain's, and the lines go to a new one.
                try:
                    ours = os.fstat(fd).st_ino == os.stat(self.path).st_ino
                except FileNotFoundError:
                    ours = False
                if ours:
                    os.write(fd, data)
                    os.fsync(fd)
                    return
            finally:
                os.close(fd)

    def lag(self, now: datetime) -> float | None:
        """Returns how long the oldest spooled message has waited, in seconds, or None when
        nothing waits."""
        if not self.directory.exists():
            return None
        oldest = None
        for path in self.directory.glob("*.jsonl*"):
            with contextlib.suppress(OSError, ValueError, KeyError):  # drained meanwhile
                with open(path, encoding="utf-8") as handle:
                    first = handle.readline()
                if first.strip():
                    at = datetime.fromisoformat(json.loads(first)["received_at"])
                    oldest = at if oldest is None else min(oldest, at)
        return None if oldest is None else (now - oldest).total_seconds()

    def pending(self) -> bool:
        """Tells whether anything waits in the spool."""
        return any(self.directory.glob("*.jsonl*")) if self.directory.exists() else False

    def _claim(self) -> list[Path]:
        if not self.directory.exists():
            return []
        if self.path.exists():
            # Rename is atomic: new appends start a fresh file while this one is drained. A
            # name of its own, in time order: a file a failed drain left (the database still
            # down) is drained later, never overwritten.
            moved = self.directory / f"inbound.jsonl.{time.time_ns():020d}.{os.getpid()}.draining"
            with contextlib.suppress(FileNotFoundError):  # another drain took it meanwhile
                os.replace(self.path, moved)
        return sorted(self.directory.glob("inbound.jsonl.*.draining"))

    async def drain(self, receive: Callable[[IncomingMessage], Awaitable[object]]) -> int:
        """Moves spooled messages into the inbox; returns how many were handed over."""
        handed = 0
        for path in await asyncio.to_thread(self._claim):
            messages = []
            for line in await asyncio.to_thread(_read_locked, path):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    record["received_at"] = datetime.fromisoformat(record["received_at"])
                    messages.append(IncomingMessage(**record))
                except (ValueError, TypeError, KeyError):
                    log.error("ligne illisible dans le spool %s, ignorée", path.name)
            # Handed over together, in order, so the inbox stores them in few transactions;
            # this raises while the database is down, and a duplicate is a no-op.
            await asyncio.gather(*(receive(message) for message in messages))
            handed += len(messages)
            path.unlink(missing_ok=True)
        return handed


def _line(message: IncomingMessage) -> str:
    return json.dumps({
        "channel": message.channel, "address": message.address,
        "provider_id": message.provider_id, "text": message.text,
        "received_at": message.received_at.isoformat(), "payload": message.payload,
    }, ensure_ascii=False) + "\n"


def _read_locked(path: Path) -> list[str]:
    try:
        with open(path, "rb") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # waits for an append in progress
            return handle.read().decode("utf-8").splitlines()
    except FileNotFoundError:
        return []  # another drainer took this file and finished it first

"""Group commit: many small concurrent writes share one transaction, and so one disk flush."""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import Database

Item = TypeVar("Item")
Result = TypeVar("Result")

MAX_BATCH = 500


class GroupCommit(Generic[Item, Result]):
    """Collects items while a transaction is in flight, then writes them all in the next one.

    Each caller waits for its own item's result, so nothing is acknowledged before its
    transaction has committed; under load one commit serves hundreds of callers.
    """

    def __init__(self, db: Database,
                 write: Callable[[AsyncSession, Sequence[Item]], Awaitable[Sequence[Result]]],
                 max_batch: int = MAX_BATCH) -> None:
        self.db = db
        self.write = write
        self.max_batch = max_batch
        self._waiting: list[tuple[Item, asyncio.Future]] = []
        self._writer: asyncio.Task | None = None

    async def submit(self, item: Item) -> Result:
        """Writes one item with whatever else is waiting; returns its result once committed."""
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._writer is None or self._writer.done():
            # Not tied to the caller: a caller that gives up does not abort the others' commit.
            self._writer = asyncio.create_task(self._write_all())
        return await future

    async def _write_all(self) -> None:
        while self._waiting:
            batch = self._waiting[:self.max_batch]
            del self._waiting[:self.max_batch]
            try:
                async with self.db.transaction() as tx:
                    results = await self.write(tx, [item for item, _ in batch])
            except BaseException as error:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                if isinstance(error, asyncio.CancelledError):
                    raise
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def close(self) -> None:
        """Waits for the writes in flight."""
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)

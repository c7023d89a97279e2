"""Batched writes: many small concurrent writes share one database transaction (group commit)
or one file flush, and so one trip to the disk."""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import Database

Item = TypeVar("Item")
Result = TypeVar("Result")

MAX_BATCH = 500


class Batches(Generic[Item, Result]):
    """Collects items while a batch is being written, then writes them all in the next one.

    Each caller waits for its own item's result, so nothing is acknowledged before its batch
    is written; under load one write (a commit, a file flush) serves hundreds of callers.
    """

    def __init__(self, write: Callable[[Sequence[Item]], Awaitable[Sequence[Result]]],
                 max_batch: int = MAX_BATCH) -> None:
        self.write = write
        self.max_batch = max_batch
        self._waiting: list[tuple[Item, asyncio.Future]] = []
        self._writer: asyncio.Task | None = None

    async def submit(self, item: Item) -> Result:
        """Writes one item with whatever else is waiting; returns its result once written."""
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._writer is None or self._writer.done():
            # Not tied to the caller: a caller that gives up does not abort the others' write.
            self._writer = asyncio.create_task(self._write_all())
        return await future

    async def _write_all(self) -> None:
        while self._waiting:
            batch = self._waiting[:self.max_batch]
            del self._waiting[:self.max_batch]
            try:
                results = await self.write([item for item, _ in batch])
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


class GroupCommit(Batches[Item, Result]):
    """Batches whose write is one database transaction: one commit, and so one disk flush,
    for many small concurrent writes."""

    def __init__(self, db: Database,
                 write: Callable[[AsyncSession, Sequence[Item]], Awaitable[Sequence[Result]]],
                 max_batch: int = MAX_BATCH) -> None:
        async def in_one_transaction(items: Sequence[Item]) -> Sequence[Result]:
            async with db.transaction() as tx:
                return await write(tx, items)

        super().__init__(in_one_transaction, max_batch)

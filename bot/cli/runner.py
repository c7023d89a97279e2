"""What the commands share: Relais built and prepared, one event loop, the database closed."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from bot.app import Relais, build
from bot.settings import Settings

T = TypeVar("T")


def run(work: Coroutine[Any, Any, T]) -> T:
    """Runs a command's coroutine in an event loop of its own and returns its result."""
    return asyncio.run(work)


def with_relais(work: Callable[[Relais], Awaitable[T]], settings: Settings | None = None,
                migrate_sqlite: bool = True) -> T:
    """Builds Relais from the settings (the environment's by default), prepares it, runs
    work(relais) and closes the database; returns what work returned."""
    return run(_with_relais(work, settings or Settings.from_env(), migrate_sqlite))


def prepare(relais: Relais) -> None:
    """Prepares Relais, then closes its database: the web server opens its own connections
    in the event loop it runs."""
    run(_with_prepared(relais))


async def _with_relais(work: Callable[[Relais], Awaitable[T]], settings: Settings,
                       migrate_sqlite: bool) -> T:
    async with _prepared(build(settings), migrate_sqlite) as relais:
        return await work(relais)


async def _with_prepared(relais: Relais) -> None:
    async with _prepared(relais):
        pass


@asynccontextmanager
async def _prepared(relais: Relais, migrate_sqlite: bool = True) -> AsyncIterator[Relais]:
    """Yields Relais with its database migrated (SQLite) or checked and the flows published, as
    `relais serve` does at start: invites, exports and the plan refer to published
    consultations."""
    try:
        await relais.prepare(migrate_sqlite=migrate_sqlite)
        yield relais
    finally:
        await relais.db.close()

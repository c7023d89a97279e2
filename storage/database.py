"""Opens the database (SQLite by default, PostgreSQL for production) and hands out transactions."""

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 10_000
# What an unreachable or stuck database raises on the way to its callers.
UNAVAILABLE = (SQLAlchemyError, OSError, TimeoutError)

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg",
                  "postgres": "postgresql+asyncpg"}


def async_url(url: str) -> URL:
    """Returns the URL with the async driver Relais uses for its database kind."""
    parsed = make_url(url)
    driver = _ASYNC_DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver) if driver else parsed


class Database:
    """The connection pool and the transactions of one database."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = async_url(url)
        self.dialect = self.url.get_backend_name()
        if self.dialect == "sqlite":
            engine_options.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        else:
            engine_options.setdefault("pool_size", 10)
            engine_options.setdefault("pool_pre_ping", True)
        self.engine = create_async_engine(self.url, **engine_options)
        if self.dialect == "sqlite":
            _configure_sqlite(self.engine.sync_engine)
        self._writer = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}
        self._reader = async_sessionmaker(self.engine.execution_options(readonly=True),
                                          expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Yields a session whose work is committed on exit, or rolled back on error."""
        if self.dialect != "sqlite":
            async with self._writer.begin() as session:
                yield session
            return
        # SQLite has one writer at a time. Queueing writers here, in order, beats letting
        # them poll the file lock in SQLite's busy handler, which sleeps up to 100 ms a try.
        async with self._write_lock(), self._writer.begin() as session:
            yield session

    def _write_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if loop not in self._write_locks:
            self._write_locks = {loop: asyncio.Lock()}  # one loop at a time uses a Database
        return self._write_locks[loop]

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """Yields a session for reading; on SQLite it does not take the write lock."""
        async with self._reader() as session:
            yield session

    async def ping(self) -> None:
        """Raises when the database cannot answer a trivial query."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def close(self) -> None:
        """Closes every pooled connection."""
        await self.engine.dispose()


def owner_only(path: str) -> None:
    """Makes a database file and its journals readable by their owner alone: answers and
    encrypted addresses are not for the machine's other users. New files already are (the
    command sets a strict umask); this also mends those an older version created."""
    for name in (path, f"{path}-wal", f"{path}-shm", f"{path}-journal"):
        with contextlib.suppress(FileNotFoundError):
            if os.stat(name).st_mode & 0o077:
                os.chmod(name, 0o600)


def _configure_sqlite(engine) -> None:
    path = engine.url.database

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        if path and path != ":memory:":
            owner_only(path)
        # Relais issues BEGIN itself (below), so the driver must not.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a message acknowledged to a provider survives a power cut, not only a crash.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        # Writers take the lock up front: a deferred transaction that upgrades to a write
        # fails at once with "database is locked" instead of waiting for busy_timeout.
        readonly = connection.get_execution_options().get("readonly", False)
        connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

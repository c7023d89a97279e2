"""Shared fixtures: a real database (SQLite, or PostgreSQL when RELAIS_TEST_DATABASE_URL is set)."""

import asyncio
import faulthandler
import os
import socket
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from bot.app import build, create_web_app
from bot.settings import Settings
from storage import migrate
from storage.database import Database
from storage.tables import Base

pytest_plugins = ["tests.fakes.fixtures"]  # fake_telegram and fake_twilio, everywhere

SECRET = "test-secret-key-0123456789-abcdefghijklmnop"


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch):
    """Fails any test that tries to connect outside this machine."""
    real_connect = socket.socket.connect

    def guarded(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (host.startswith("127.") or host in ("::1", "localhost")
                                          or sock.family == socket.AF_UNIX):
            raise RuntimeError(f"tests must not reach the network ({host})")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def pytest_collection_modifyitems(config, items) -> None:
    """On PostgreSQL, runs only the tests that use the test database: the others (the engine,
    the language models, commands on files of their own) do not depend on it and have given
    their answer in the SQLite run."""
    if not (os.environ.get("RELAIS_TEST_DATABASE_URL") or "").startswith("postgresql"):
        return
    kept = [item for item in items if "database_url" in getattr(item, "fixturenames", ())]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """Returns the test database URL, migrated once for the whole run."""
    url = os.environ.get("RELAIS_TEST_DATABASE_URL") or \
        f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'relais-test.db'}"

    async def reset() -> None:
        db = Database(url)
        if db.dialect == "postgresql":
            async with db.engine.begin() as connection:
                await connection.execute(text("DROP SCHEMA public CASCADE"))
                await connection.execute(text("CREATE SCHEMA public"))
        await migrate.upgrade(db)
        await db.close()

    asyncio.run(reset())
    return url



def pytest_addoption(parser) -> None:
    parser.addoption("--update-snapshots", action="store_true", default=False,
                     help="rewrite tests/flows/<id>.events.yaml from what the engine emits "
                          "(also RELAIS_UPDATE_SNAPSHOTS=1)")

async def empty(db: Database) -> None:
    """Deletes every row, keeping the schema."""
    for attempt in range(3):
        try:
            return await _delete_everything(db)
        except OperationalError as error:
            # The suite shares one SQLite file. On a machine loaded by other jobs, a write
            # lock left by the previous test's teardown has outlived SQLite's 10 s wait; say
            # who held what (every thread's stack), then wait again rather than fail a test
            # that has not begun.
            if db.dialect != "sqlite" or "locked" not in str(error) or attempt == 2:
                raise
            print(f"base de test verrouillée avant le test (essai {attempt + 1}) :",
                  file=sys.stderr)
            faulthandler.dump_traceback(sys.stderr)


async def _delete_everything(db: Database) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with db.engine.begin() as connection:
        if db.dialect == "postgresql":
            # Only the tables holding rows: truncating each of the forty costs a tenth of a
            # second a test, and a test writes to a few.
            used = [name for (name,) in await connection.execute(text(" UNION ALL ".join(
                f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM {t})" for t in tables)))]
            if used:
                await connection.execute(text(
                    f"TRUNCATE {', '.join(used)} RESTART IDENTITY CASCADE"))
            # Ids start at 1 again, also where rows were written then deleted.
            await connection.execute(text(
                "SELECT setval(format('%I.%I', schemaname, sequencename), 1, false) "
                "FROM pg_sequences WHERE last_value IS NOT NULL"))
        else:
            for table in tables:
                await connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
async def db(database_url):
    """A connected, empty database."""
    database = Database(database_url)
    await empty(database)
    yield database
    await database.close()


@pytest.fixture
def settings(database_url) -> Settings:
    """Test settings on the test database."""
    return Settings(env="test", database_url=database_url, secret_key=SECRET,
                    public_url="https://relais.example.org", simulator=True)


@pytest.fixture
async def relais(settings, db):
    """A built Relais with its flows published, background loops not started."""
    system = build(settings)
    await system.prepare()
    yield system
    await system.stop()


@pytest.fixture
async def client(aiohttp_client, relais):
    """An HTTP client on the running application (background loops started)."""
    return await aiohttp_client(create_web_app(relais))


FLOWS_DIR = Path(__file__).parents[1] / "bot" / "flows"

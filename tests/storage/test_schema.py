"""Migrations and models describe the same schema, on SQLite and PostgreSQL."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from storage import migrate
from storage.tables import Base


async def test_migrations_match_the_models(db):
    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with db.engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == []


async def test_no_migration_is_pending_after_upgrade(db):
    assert await migrate.pending(db) == []


async def test_sqlite_runs_in_wal_with_foreign_keys(db):
    if db.dialect != "sqlite":
        pytest.skip("SQLite's pragmas: this run is on PostgreSQL")
    async with db.read() as tx:
        assert await tx.scalar(text("PRAGMA journal_mode")) == "wal"
        assert await tx.scalar(text("PRAGMA foreign_keys")) == 1
        assert await tx.scalar(text("PRAGMA synchronous")) == 2  # FULL

"""Migrations and models describe the same schema, on SQLite and PostgreSQL."""

import hashlib
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from storage import audit, migrate, search, users
from storage.tables import Base, LoginFailure


async def test_migrations_match_the_models(db):
    def diff(connection):
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_object": search.include_object})
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


async def test_upgrading_forgets_the_plain_digests_of_typed_e_mails(db):
    async def to(revision: str, step) -> None:
        def run(connection) -> None:
            config = migrate.alembic_config()
            config.attributes["connection"] = connection
            step(config, revision)

        async with db.engine.begin() as connection:
            await connection.run_sync(run)

    digest = hashlib.sha256(b"un mot de passe dans le champ e-mail").hexdigest()
    now = datetime(2026, 11, 20, tzinfo=UTC)
    await to("0007", command.downgrade)
    try:
        async with db.transaction() as tx:  # what the sign-in form recorded until then
            await users.record_failure(tx, [f"account:{digest}", "address:203.0.113.7"], now)
            audit.record(tx, actor="admin-view", action="login.failed", target=digest[:16],
                         at=now)
            audit.record(tx, actor="cli", action="user.created", target="12", at=now)
    finally:
        await to("head", command.upgrade)
    async with db.read() as tx:
        assert list(await tx.scalars(select(LoginFailure.key))) == ["address:203.0.113.7"]
        kept = {(e.action, e.target) for e in await audit.entries(tx)}
    assert kept == {("login.failed", None), ("user.created", "12")}

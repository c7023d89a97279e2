"""Brings a database schema up to date with the Alembic migrations shipped in this package."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from storage.database import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str = "") -> Config:
    """Returns an Alembic configuration pointing at Relais's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation would read "%" in a password as a placeholder.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(db: Database) -> None:
    """Applies every migration not yet applied, in one transaction."""
    config = alembic_config()

    def _upgrade(connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with db.engine.begin() as connection:
        await connection.run_sync(_upgrade)


async def pending(db: Database) -> list[str]:
    """Lists the migrations the database still lacks, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())

    def _current(connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    async with db.engine.connect() as connection:
        current = await connection.run_sync(_current)
    missing = []
    for revision in script.walk_revisions():
        if revision.revision in current:
            break
        missing.append(revision.revision)
    return list(reversed(missing))

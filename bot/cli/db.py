"""`relais db upgrade`: applying the database migrations."""

import argparse

from bot.cli.runner import run
from bot.settings import Settings
from storage import migrate
from storage.database import Database


def define(parser: argparse.ArgumentParser) -> None:
    """Adds the actions of `relais db`."""
    actions = parser.add_subparsers(title="actions", metavar="ACTION")
    upgrade = actions.add_parser("upgrade", help="appliquer les migrations")
    upgrade.set_defaults(run=upgrade_database)


def upgrade_database(_args: argparse.Namespace) -> int:
    """Applies the pending migrations and says how many there were."""
    applied = run(_upgrade(Settings.from_env()))
    print(f"base à jour ({len(applied)} migration(s) appliquée(s))")
    return 0


async def _upgrade(settings: Settings) -> list[str]:
    # The database alone, not Relais: preparing Relais refuses a database behind the code.
    db = Database(settings.database_url)
    try:
        missing = await migrate.pending(db)
        await migrate.upgrade(db)
        return missing
    finally:
        await db.close()

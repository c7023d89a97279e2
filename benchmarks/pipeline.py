"""Each stage of the message path alone, in one process: inbox, processor, delivery.

On a new SQLite file by default; `--url` runs on a PostgreSQL database instead (emptied first,
its statistics refreshed between stages as autovacuum would).
`--profile N` also prints the processor stage's N costliest functions (cProfile, own time).
"""

import argparse
import asyncio
import cProfile
import os
import platform
import pstats
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Run as a script, this folder comes first on the path, where benchmarks/nlp.py would hide
# the nlp package: look in the project instead.
sys.path[0] = str(Path(__file__).resolve().parents[1])

from sqlalchemy import text  # noqa: E402
from sqlalchemy.exc import DBAPIError  # noqa: E402

from bot.app import build  # noqa: E402
from bot.channels.base import IncomingMessage  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage import migrate  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.vault import Vault  # noqa: E402

REPLIES = ["Bonjour", "oui", "80000", "2", "1, 3", "4", "Le prix", "Trop de retards le matin",
           "Plus de trains le soir", "oui"]
MESSAGES, PARTICIPANTS = 10_000, 1_000
SECRET_KEY = "k" * 40
CHANNEL = "web"


class Discard:
    """A channel that accepts every message at once, so only Relais's own work is timed."""

    name = CHANNEL

    async def send(self, address, message):
        return "ok"


def address(person: int) -> str:
    return f"person-{person}"


async def reset(url: str) -> None:
    """Empties a server database and creates the schema; refuses one holding participants
    that this benchmark did not create."""
    vault = Vault(SECRET_KEY)
    ours = [vault.pseudonym(CHANNEL, address(n)) for n in range(PARTICIPANTS)]
    db = Database(url)
    try:
        async with db.read() as tx:
            others = await tx.scalar(
                text("SELECT count(*) FROM participants WHERE NOT (pseudonym = ANY(:ours))"),
                {"ours": ours})
    except DBAPIError:
        others = 0  # no schema yet
    if others:
        await db.close()
        raise SystemExit(f"la base contient {others} participant(s) qui ne viennent pas de ce "
                         "banc d'essai : elle ne sera pas vidée")
    async with db.engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await migrate.upgrade(db)
    await db.close()


async def analyze(db: Database) -> None:
    """Refreshes PostgreSQL's statistics, as autovacuum does after a table grows: without
    them, its plans assume tables of a few rows."""
    if db.dialect == "postgresql":
        async with db.engine.connect() as connection:
            await connection.execute(text("ANALYZE"))


async def main() -> None:
    """Prints messages stored, turns processed and replies delivered per second."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a PostgreSQL database URL (emptied first; refused if "
                        "it holds other participants); default: a new SQLite file")
    parser.add_argument("--profile", type=int, metavar="N",
                        help="profile the processor stage and print its N costliest functions")
    args = parser.parse_args()
    url = args.url
    if url is None:
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='relais-bench-'))}/pipeline.db"
    else:
        await reset(url)
    settings = Settings(env="test", database_url=url, secret_key=SECRET_KEY, public_url=None)
    relais = build(settings, channels=[Discard()])
    await relais.prepare()
    start = datetime.now(UTC)
    messages = [IncomingMessage(CHANNEL, address(n % PARTICIPANTS), f"m{n}",
                                REPLIES[(n // PARTICIPANTS) % len(REPLIES)],
                                start + timedelta(milliseconds=n)) for n in range(MESSAGES)]
    began = time.perf_counter()
    await asyncio.gather(*(relais.inbox.receive(message) for message in messages))
    stored = MESSAGES / (time.perf_counter() - began)
    await analyze(relais.db)
    profile = cProfile.Profile() if args.profile else None
    began, cpu, processed = time.perf_counter(), time.process_time(), 0
    if profile:
        profile.enable()
    while processed < MESSAGES:
        processed += await relais.processor.run_once()
    if profile:
        profile.disable()
    turns = MESSAGES / (time.perf_counter() - began)
    cpu_per_turn = (time.process_time() - cpu) / MESSAGES * 1e6
    await analyze(relais.db)
    began, delivered = time.perf_counter(), 0
    while batch := await relais.delivery.run_once():
        delivered += batch
    sends = delivered / (time.perf_counter() - began)
    await relais.stop()
    print(f"database:  {relais.db.dialect}")
    print(f"inbox:     {stored:8,.0f} messages stored/s (group commit, fsync on)")
    print(f"processor: {turns:8,.0f} turns/s ({PARTICIPANTS:,} people, whole conversations; "
          f"{cpu_per_turn:,.0f} µs of this process's CPU a turn)")
    print(f"delivery:  {sends:8,.0f} replies/s ({delivered:,} replies, provider answering at once)")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {platform.system()} {platform.release()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    if profile:
        # Own time: under asyncio and SQLAlchemy's greenlets, cumulative times are unreliable.
        pstats.Stats(profile).sort_stats("tottime").print_stats(args.profile)


if __name__ == "__main__":
    asyncio.run(main())

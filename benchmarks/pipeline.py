"""Each stage of the message path alone, in one process on SQLite: inbox, processor, delivery."""

import asyncio
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Run as a script, this folder comes first on the path, where benchmarks/nlp.py would hide
# the nlp package: look in the project instead.
sys.path[0] = str(Path(__file__).resolve().parents[1])

from bot.app import build  # noqa: E402
from bot.channels.base import IncomingMessage  # noqa: E402
from bot.settings import Settings  # noqa: E402

REPLIES = ["Bonjour", "oui", "80000", "2", "1, 3", "4", "Le prix", "Trop de retards le matin",
           "Plus de trains le soir", "oui"]
MESSAGES, PARTICIPANTS = 10_000, 1_000


class Discard:
    """A channel that accepts every message at once, so only Relais's own work is timed."""

    name = "web"

    async def send(self, address, message):
        return "ok"


async def main() -> None:
    """Prints messages stored, turns processed and replies delivered per second."""
    database = Path(tempfile.mkdtemp(prefix="relais-bench-")) / "pipeline.db"
    settings = Settings(env="test", database_url=f"sqlite+aiosqlite:///{database}",
                        secret_key="k" * 40, public_url=None)
    relais = build(settings, channels=[Discard()])
    await relais.prepare()
    start = datetime.now(UTC)
    messages = [IncomingMessage("web", f"person-{n % PARTICIPANTS}", f"m{n}",
                                REPLIES[(n // PARTICIPANTS) % len(REPLIES)],
                                start + timedelta(milliseconds=n)) for n in range(MESSAGES)]
    began = time.perf_counter()
    await asyncio.gather(*(relais.inbox.receive(message) for message in messages))
    stored = MESSAGES / (time.perf_counter() - began)
    began, processed = time.perf_counter(), 0
    while processed < MESSAGES:
        processed += await relais.processor.run_once()
    turns = MESSAGES / (time.perf_counter() - began)
    began, delivered = time.perf_counter(), 0
    while batch := await relais.delivery.run_once():
        delivered += batch
    sends = delivered / (time.perf_counter() - began)
    await relais.stop()
    print(f"inbox:     {stored:8,.0f} messages stored/s (group commit, fsync on)")
    print(f"processor: {turns:8,.0f} turns/s ({PARTICIPANTS:,} people, whole conversations)")
    print(f"delivery:  {sends:8,.0f} replies/s ({delivered:,} replies, provider answering at once)")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {platform.system()} {platform.release()}")


if __name__ == "__main__":
    asyncio.run(main())

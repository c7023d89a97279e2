"""`relais worker`: processes the messages received and sends the replies, with no web server."""

import argparse
import asyncio
import logging
import signal

from bot.app import Relais
from bot.cli.runner import with_relais

log = logging.getLogger("relais")


def define(parser: argparse.ArgumentParser) -> None:
    """Adds the options of `relais worker`."""
    parser.add_argument("--parent", type=int, help=argparse.SUPPRESS)  # set by relais serve
    parser.set_defaults(run=worker)


def worker(args: argparse.Namespace) -> int:
    """Works until SIGINT or SIGTERM, or until the `relais serve` that started it is gone."""

    async def work(relais: Relais) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await relais.start(parent_pid=args.parent)
        log.info("worker démarré : traitement des messages et envoi des réponses")
        orphaned = asyncio.create_task(relais.heartbeat.parent_gone.wait())
        try:
            await asyncio.wait([asyncio.create_task(stop.wait()), orphaned],
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            await relais.stop()

    # Started by `relais serve`, which applies the migrations: wait for them, never race.
    with_relais(work, migrate_sqlite=args.parent is None)
    return 0

"""`relais serve`: the web server (webhooks, simulator, admin view), with its worker."""

import argparse
import logging
import os
import sys

from aiohttp import web

from bot.app import SERVER_OPTIONS, build, create_web_app
from bot.cli.runner import prepare
from bot.settings import Settings
from bot.supervisor import Supervisor

log = logging.getLogger("relais")


def define(parser: argparse.ArgumentParser) -> None:
    """Adds the options of `relais serve`."""
    parser.add_argument("--host", default="127.0.0.1", help="adresse d'écoute (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port d'écoute (8080)")
    layout = parser.add_mutually_exclusive_group()
    layout.add_argument("--web-only", action="store_true",
                        help="seulement recevoir et enregistrer : le traitement et l'envoi sont "
                             "faits par des « relais worker » lancés à part")
    layout.add_argument("--single-process", action="store_true",
                        help="tout dans un seul processus (pour déboguer) ; par défaut, le "
                             "traitement et l'envoi tournent dans un processus enfant, "
                             "relancé s'il s'arrête")
    parser.set_defaults(run=serve)


def serve(args: argparse.Namespace) -> int:
    """Serves until stopped, with a supervised worker process unless told otherwise."""
    settings = Settings.from_env()
    worker = None
    if not args.single_process and not args.web_only:
        # The work runs in a child process: a CPU-heavy batch never delays a webhook, and a
        # crash of either side leaves the other running. Launched first, so that it boots
        # while this process does; it waits for the migrations this one applies.
        worker = Supervisor([sys.executable, "-m", "bot", "worker", "--parent",
                             str(os.getpid())])
        worker.launch()
    try:
        return _serve_web(args, settings, worker)
    finally:
        if worker is not None and worker.running:  # the server failed to start
            worker.process.terminate()


def _serve_web(args: argparse.Namespace, settings: Settings, worker: Supervisor | None) -> int:
    relais = build(settings)
    prepare(relais)
    app = create_web_app(relais, work=args.single_process)
    if worker is not None:
        async def watch_worker(_app) -> None:
            await worker.watch()

        async def stop_worker(_app) -> None:
            await worker.stop()

        app.on_startup.append(watch_worker)
        app.on_shutdown.append(stop_worker)
    base = f"http://{args.host}:{args.port}"
    if settings.simulator_enabled:
        log.info("Relais écoute sur %s ; simulateur : %s/simulateur", base, base)
    else:  # off in production unless RELAIS_SIMULATOR=1: no address to announce
        log.info("Relais écoute sur %s", base)
    # aiohttp runs the server in an event loop of its own, which handles SIGINT and SIGTERM.
    # shutdown_timeout: on SIGTERM, requests in flight get this long to finish.
    web.run_app(app, host=args.host, port=args.port, shutdown_timeout=10, print=None,
                access_log=None, **SERVER_OPTIONS)
    return 0

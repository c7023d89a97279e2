"""The `relais` command line: serve, chat, check flows, migrate."""

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot.settings import Settings, SettingsError

log = logging.getLogger("relais")


def main(argv: list[str] | None = None) -> int:
    """Runs one `relais` command; returns the process exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return args.run(args) or 0
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # every failure becomes one clear line, never a traceback
        print(f"relais: {_describe(error)}", file=sys.stderr)
        return 1


def _describe(error: Exception) -> str:
    from bot.consultations import InvalidConsultations

    if isinstance(error, InvalidConsultations):
        return "fichiers de consultation invalides :\n" + "\n".join(
            f"  {problem}" for problem in error.problems)
    if isinstance(error, OSError | ConnectionError):
        return f"connexion impossible ({error})"
    name = type(error).__name__
    return str(error) if isinstance(error, SettingsError | ValueError) else f"{name}: {error}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="relais", description="Relais : consultations citoyennes par chat et SMS.")
    commands = parser.add_subparsers(title="commandes", metavar="COMMANDE")

    serve = commands.add_parser("serve", help="démarrer le serveur (webhooks, simulateur)")
    serve.add_argument("--host", default="127.0.0.1", help="adresse d'écoute (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port d'écoute (8080)")
    serve.set_defaults(run=_serve)

    chat = commands.add_parser("chat", help="répondre à une consultation dans le terminal")
    chat.add_argument("--consultation", default=None, help="identifiant (ex. mobilite)")
    chat.add_argument("--as", dest="name", default=None,
                      help="nom de la conversation, pour la reprendre plus tard")
    chat.set_defaults(run=_chat)

    flows = commands.add_parser("flows", help="consultations").add_subparsers(
        title="actions", metavar="ACTION")
    check = flows.add_parser("check", help="vérifier des fichiers de consultation")
    check.add_argument("files", nargs="*", type=Path,
                       help="fichiers YAML (par défaut : bot/flows/*.yaml)")
    check.set_defaults(run=_flows_check)

    db = commands.add_parser("db", help="base de données").add_subparsers(
        title="actions", metavar="ACTION")
    upgrade = db.add_parser("upgrade", help="appliquer les migrations")
    upgrade.set_defaults(run=_db_upgrade)
    return parser


def _serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from bot.app import build, create_web_app

    settings = Settings.from_env()
    relais = build(settings)
    asyncio.run(_prepare(relais))
    app = create_web_app(relais)
    base = f"http://{args.host}:{args.port}"
    log.info("Relais écoute sur %s ; simulateur : %s/simulateur", base, base)
    # shutdown_timeout: on SIGTERM, requests in flight get this long to finish.
    web.run_app(app, host=args.host, port=args.port, shutdown_timeout=10, print=None,
                access_log=None)
    return 0


async def _prepare(relais) -> None:
    try:
        await relais.prepare()
    finally:
        await relais.db.close()  # the server opens its own connections in its own loop


def _chat(args: argparse.Namespace) -> int:
    from bot.chat import chat

    settings = Settings.from_env()
    logging.getLogger().setLevel(logging.WARNING)
    asyncio.run(chat(settings, args.consultation or settings.default_consultation, args.name))
    return 0


def _flows_check(args: argparse.Namespace) -> int:
    from bot.consultations import FLOWS_DIR, check_files, default_paths

    settings = Settings.from_env()
    paths = args.files or default_paths(settings.flows_dir or FLOWS_DIR)
    results = check_files(paths, settings.privacy_url)
    problems = [problem for result in results for problem in result.problems]
    for problem in problems:
        print(problem, file=sys.stderr if not problem.warning else sys.stdout)
    errors = sum(not p.warning for p in problems)
    valid = sum(r.flow is not None for r in results)
    print(f"{valid} consultation(s) valide(s), {errors} erreur(s), "
          f"{len(problems) - errors} avertissement(s)")
    return 1 if errors else 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from storage import migrate
    from storage.database import Database

    settings = Settings.from_env()

    async def run() -> list[str]:
        db = Database(settings.database_url)
        try:
            missing = await migrate.pending(db)
            await migrate.upgrade(db)
            return missing
        finally:
            await db.close()

    applied = asyncio.run(run())
    print(f"base à jour ({len(applied)} migration(s) appliquée(s))")
    return 0

"""The `relais` command line: one module of this package per command, run by `main`.

To add a command: write `bot/cli/<command>.py` with a `define(parser)` that adds its arguments
(or its actions) and sets `run`, a function of the parsed arguments returning the exit code;
then give it its line in COMMANDS. A command that needs Relais passes an async function of
Relais to `runner.with_relais`, which builds and prepares Relais, runs the function in the
command's one event loop and closes the database; any error it lets through becomes one line
here.

Why argparse rather than click or typer: the help, the usage lines and the parser's error
messages (« usage: relais … », « relais serve: error: … », exit code 2) are part of what
operators and tests read, and click formats all of them differently ("Usage:", "Error: No such
option", panels with typer); matching them would mean overriding its formatters, and click has
no mutually exclusive options (serve, nlp train, export use them). argparse is in the standard
library and does all this command line needs; neither click nor typer is a dependency of
Relais, and neither would remove code here.
"""

import argparse
import importlib
import os
import sys

from bot import logs
from bot.settings import SettingsError, log_settings

# Each command's line in `relais --help`, in this order; its module is bot/cli/<command>.py.
COMMANDS = {
    "serve": "démarrer le serveur (webhooks, simulateur)",
    "worker": "traiter les messages reçus et envoyer les réponses (sans serveur web)",
    "chat": "répondre à une consultation dans le terminal",
    "flows": "consultations",
    "db": "base de données",
    "nlp": "thèmes des réponses libres",
    "telegram": "Telegram",
    "association": "associations relais",
    "invite": "invitations des associations",
    "purge": "effacer ce qui dépasse la durée de conservation des consultations",
    "user": "comptes de la vue d'administration",
    "export": "exporter les réponses (masquées), les thèmes ou les indicateurs d'une "
              "consultation, en CSV ou JSON",
    "plan": "plan d'actions partagé",
}


def main(argv: list[str] | None = None) -> int:
    """Runs one `relais` command; returns the process exit code."""
    # Every file Relais creates (database, journals, spool, models, exports, invitations) is
    # for its owner alone: they hold answers, addresses or the means to read them.
    os.umask(0o077)
    argv = sys.argv[1:] if argv is None else argv
    parser = _parser(argv)
    args = parser.parse_args(argv)
    try:
        logs.configure(*log_settings())
    except SettingsError as error:
        print(f"relais: {error}", file=sys.stderr)
        return 1
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


def _parser(argv: list[str]) -> argparse.ArgumentParser:
    """Returns the parser of `relais`, with the arguments of the command argv names."""
    parser = argparse.ArgumentParser(
        prog="relais", description="Relais : consultations citoyennes par chat et SMS.")
    commands = parser.add_subparsers(title="commandes", metavar="COMMANDE")
    # `relais` itself takes no option with a value: its first word is the command.
    chosen = next((word for word in argv if not word.startswith("-")), None)
    for name, text in COMMANDS.items():
        command = commands.add_parser(name, help=text)
        if name == chosen:
            # Only the command run is imported, and what it needs with it: a worker loads
            # neither the admin view nor spaCy, and `relais --help` stays instant.
            importlib.import_module(f"{__name__}.{name}").define(command)
    return parser


def _describe(error: Exception) -> str:
    """Returns the line that tells the operator what failed."""
    # Imported on failure only: most commands never load the consultation files' parser.
    from bot.consultations import InvalidConsultations

    if isinstance(error, InvalidConsultations):
        return "fichiers de consultation invalides :\n" + "\n".join(
            f"  {problem}" for problem in error.problems)
    if isinstance(error, OSError) and error.filename:  # a file, not a connection
        return f"fichier inaccessible : {error.filename} ({error.strerror})"
    if isinstance(error, OSError | ConnectionError):
        return f"connexion impossible ({error})"
    # Refusals meant for the operator, printed as they are (a database behind the code
    # among them: bot.app.NotMigrated is a RuntimeError).
    if isinstance(error, SettingsError | ValueError | RuntimeError):
        return str(error)
    return f"{type(error).__name__}: {error}"

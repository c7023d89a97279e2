"""`relais chat`: answering a consultation in the terminal."""

import argparse
import logging

from bot.chat import chat
from bot.cli.runner import run
from bot.settings import Settings


def define(parser: argparse.ArgumentParser) -> None:
    """Adds the options of `relais chat`."""
    parser.add_argument("--consultation", default=None, help="identifiant (ex. mobilite)")
    parser.add_argument("--as", dest="name", default=None,
                        help="nom de la conversation, pour la reprendre plus tard")
    parser.set_defaults(run=terminal_chat)


def terminal_chat(args: argparse.Namespace) -> int:
    """Runs one conversation in the terminal until end of input."""
    settings = Settings.from_env()
    logging.getLogger().setLevel(logging.WARNING)  # the conversation, not the logs
    run(chat(settings, args.consultation or settings.default_consultation, args.name))
    return 0

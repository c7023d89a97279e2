"""`relais flows check`: checking consultation files."""

import argparse
import sys
from pathlib import Path

from bot.consultations import FLOWS_DIR, check_files, default_paths
from bot.settings import Settings


def define(parser: argparse.ArgumentParser) -> None:
    """Adds the actions of `relais flows`."""
    actions = parser.add_subparsers(title="actions", metavar="ACTION")
    check = actions.add_parser("check", help="vérifier des fichiers de consultation")
    check.add_argument("files", nargs="*", type=Path,
                       help="fichiers YAML (par défaut : bot/flows/*.yaml)")
    check.set_defaults(run=check_flows)


def check_flows(args: argparse.Namespace) -> int:
    """Prints every problem of the files, then a count; fails when one is an error."""
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

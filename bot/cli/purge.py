"""`relais purge`: erasing what outlives the consultations' retention period."""

import argparse

from bot.app import Relais, admin_config
from bot.cli.runner import with_relais
from storage import audit, labels, purge
from storage.clock import utcnow

LINES = {
    "sessions": "sessions de consultation supprimées",
    "answers": "réponses supprimées",
    "labels": "thèmes de réponses supprimés",
    "inbound_texts": "textes de messages reçus effacés",
    "outbox_texts": "textes de messages envoyés effacés",
    "participants": "participants supprimés",
    "identities": "adresses chiffrées supprimées",
    "login_failures": "échecs de connexion oubliés",
    "admin_sessions": "sessions d'administration expirées fermées",
}


def define(parser: argparse.ArgumentParser) -> None:
    """Adds the options of `relais purge`."""
    parser.add_argument("--dry-run", action="store_true",
                        help="compter ce qui serait effacé, sans rien effacer")
    parser.set_defaults(run=purge_expired)


class _RolledBack(Exception):
    """Ends a dry run's transaction without committing it, carrying what it counted."""

    def __init__(self, counts: purge.Purged) -> None:
        super().__init__("dry run")
        self.counts = counts


def purge_expired(args: argparse.Namespace) -> int:
    """Purges (or, in a dry run, counts) what is past its retention, and prints the counts."""
    counts = with_relais(lambda relais: _purge(relais, args.dry_run))
    if args.dry_run:
        print("simulation : rien n'a été effacé ; voici ce que « relais purge » effacerait")
    for name, count in counts.as_dict().items():
        print(f"{count:>9}  {LINES[name]}")
    return 0


async def _purge(relais: Relais, dry_run: bool) -> purge.Purged:
    config = admin_config(relais)
    now = utcnow()
    try:
        async with relais.db.transaction() as tx:
            counts = await purge.purge(tx, now, idle_timeout=config.idle_timeout,
                                       session_lifetime=config.session_lifetime)
            if dry_run:  # the very same deletions, then a rollback
                raise _RolledBack(counts)
            audit.record(tx, actor="cli", action="purge", details=counts.as_dict(), at=now)
    except _RolledBack as rolled:
        return rolled.counts
    if counts.answers:
        # Theme summaries quote answers: those quoting purged ones are computed again.
        async with relais.db.read() as tx:
            active = await labels.active_models(tx)
        for consultation_id, model in sorted(active.items()):
            await relais.classification.summarise(consultation_id, model.version)
    return counts

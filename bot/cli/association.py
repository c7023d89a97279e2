"""`relais association add`: the associations that relay a consultation."""

import argparse

from bot.app import Relais
from bot.cli.runner import with_relais
from bot.engine.territory import REGION_DEPARTEMENTS
from storage import invites
from storage.clock import utcnow
from storage.tables import Association


def define(parser: argparse.ArgumentParser) -> None:
    """Adds the actions of `relais association`."""
    actions = parser.add_subparsers(title="actions", metavar="ACTION")
    add = actions.add_parser("add", help="enregistrer une association")
    add.add_argument("name", metavar="NOM", help="nom de l'association (unique)")
    add.add_argument("--territory", choices=sorted(REGION_DEPARTEMENTS), default=None,
                     help="département (02, 59, 60, 62 ou 80)")
    add.set_defaults(run=add_association)


def add_association(args: argparse.Namespace) -> int:
    """Registers an association and prints its number."""

    async def add(relais: Relais) -> Association:
        async with relais.db.transaction() as tx:
            return await invites.add_association(tx, args.name, args.territory, utcnow())

    association = with_relais(add)
    territory = f" ({association.territory})" if association.territory else ""
    print(f"association {association.id} : {association.name}{territory}")
    return 0


async def association_named(tx, name: str) -> Association:
    """Returns the association with this name; raises ValueError listing the known ones."""
    association = await invites.association_by_name(tx, name)
    if association is not None:
        return association
    known = [a.name for a in await invites.all_associations(tx)]
    hint = (f"connues : {', '.join(known)}" if known
            else "aucune : créez-la avec « relais association add »")
    raise ValueError(f"association inconnue « {name.strip()} » ({hint})")

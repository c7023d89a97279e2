"""`relais plan …`: the action plan's CSV export and import, its statuses, and the daily
measurement of the indicators Relais computes."""

import argparse
import sys
from pathlib import Path

from admin import plan_csv
from bot import measuring
from bot.app import Relais
from bot.cli.runner import with_relais
from storage import audit, plan
from storage.clock import utcnow


def define(parser: argparse.ArgumentParser) -> None:
    """Adds the actions of `relais plan`."""
    actions = parser.add_subparsers(title="plan", metavar="ACTION")
    export = actions.add_parser("export", help="écrire le plan en CSV (« ; », UTF-8 avec BOM)")
    export.add_argument("--out", type=Path, help="fichier à écrire (sinon la sortie standard)")
    export.set_defaults(run=export_plan)
    load = actions.add_parser("import", help="importer un CSV du plan : tout ou rien")
    load.add_argument("file", type=Path, metavar="FICHIER")
    load.set_defaults(run=import_plan)
    status = actions.add_parser("status", help="statuts des actions").add_subparsers(
        title="statuts", metavar="ACTION")
    add = status.add_parser("add", help="ajouter un statut")
    add.add_argument("key", metavar="CLE", help="a-z, 0-9 et _, par exemple suspendue")
    add.add_argument("name", metavar="NOM", help="son nom en français")
    add.add_argument("--description", default="")
    add.add_argument("--avancement", type=int, default=None,
                     help="avancement par défaut d'une action à ce statut (0 à 100)")
    add.set_defaults(run=add_status)
    measure = actions.add_parser("measure", help="mesurer aujourd'hui les indicateurs calculés "
                                                 "par Relais (une fois par jour au plus)")
    measure.set_defaults(run=measure_indicators)


def export_plan(args: argparse.Namespace) -> int:
    """Writes the plan as CSV to a file or to standard output."""

    async def export(relais: Relais) -> tuple[str, int]:
        async with relais.db.read() as tx:
            content, rows = await plan_csv.export(tx)
        async with relais.db.transaction() as tx:
            audit.record(tx, actor="cli", action="plan.exported", at=utcnow(),
                         details={"rows": rows})
        return content, rows

    content, rows = with_relais(export)
    data = content.encode("utf-8")
    if args.out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        args.out.write_bytes(data)
    print(f"{rows} action(s) exportée(s)"
          + (f" dans {args.out}" if args.out else ""), file=sys.stderr)
    return 0


def import_plan(args: argparse.Namespace) -> int:
    """Imports a CSV of the plan, all of it or, at the first problem, none."""
    data = args.file.read_bytes()

    async def load(relais: Relais) -> tuple[int, int] | list[plan_csv.Problem]:
        async with relais.db.read() as tx:
            rows, problems = await plan_csv.read(tx, data)
        if problems:
            return problems
        async with relais.db.transaction() as tx:
            counts = await plan_csv.apply(tx, rows, "cli", utcnow())
            audit.record(tx, actor="cli", action="plan.imported", at=utcnow(),
                         details={"created": counts[0], "updated": counts[1]})
        return counts

    found = with_relais(load)
    if isinstance(found, list):
        for problem in found:
            print(f"relais: {args.file}: {problem}", file=sys.stderr)
        print(f"relais: rien n'est importé ({len(found)} problème(s))", file=sys.stderr)
        return 1
    print(f"{found[0]} action(s) créée(s), {found[1]} modifiée(s)", file=sys.stderr)
    return 0


def add_status(args: argparse.Namespace) -> int:
    """Adds a status actions can take."""

    async def add(relais: Relais):
        async with relais.db.transaction() as tx:
            status = await plan.add_status(tx, args.key, args.name, args.description,
                                           args.avancement)
            audit.record(tx, actor="cli", action="plan.status_added", target=status.key,
                         at=utcnow())
            return status

    status = with_relais(add)
    print(f"statut {status.key} : {status.name}")
    return 0


def measure_indicators(_args: argparse.Namespace) -> int:
    """Measures today's computed indicators, once a day at most."""
    recorded = with_relais(lambda relais: measuring.measure_once(relais.db, utcnow))
    print(f"{recorded} mesure(s) enregistrée(s)")
    return 0

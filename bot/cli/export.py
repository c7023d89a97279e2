"""`relais export`: a consultation's answers, themes or indicators, in CSV or JSON."""

import argparse
import sys
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlencode

from multidict import MultiDict

from admin import exports, filters
from admin.consultations import UnknownQuestion, from_definition
from bot.app import Relais
from bot.cli.runner import with_relais
from storage import audit, catalog, invites
from storage.clock import utcnow


def define(parser: argparse.ArgumentParser) -> None:
    """Adds the options of `relais export`."""
    parser.add_argument("--consultation", required=True, help="identifiant (ex. mobilite)")
    parser.add_argument("--what", choices=("reponses", "themes", "indicateurs"),
                        default="reponses", help="quoi exporter (reponses)")
    parser.add_argument("--format", choices=("csv", "json"), default="csv",
                        help="csv (par défaut) ou json (un tableau)")
    parser.add_argument("--separateur", choices=(",", ";"), default=";",
                        help="séparateur CSV : « ; » (par défaut, avec la virgule décimale, "
                             "pour les tableurs en français) ou « , » (format international)")
    bom = parser.add_mutually_exclusive_group()
    bom.add_argument("--bom", action="store_true", default=True,
                     help="commencer le CSV par une marque UTF-8, pour Excel (par défaut)")
    bom.add_argument("--sans-bom", dest="bom", action="store_false",
                     help="sans marque UTF-8 au début du CSV")
    parser.add_argument("--question", help="seulement les réponses à cette question")
    for name, what in (("theme", "thème"), ("territoire", "département (02, 59… hors_region)"),
                       ("association", "association (nom ou numéro)"),
                       ("canal", "canal (telegram, sms, web)")):
        parser.add_argument(f"--{name}", action="append", default=[],
                            help=f"filtrer par {what} ; répétable")
    parser.add_argument("--du", help="réponses à partir de ce jour (AAAA-MM-JJ)")
    parser.add_argument("--au", help="réponses jusqu'à ce jour inclus (AAAA-MM-JJ)")
    parser.add_argument("--confiance-min", help="confiance minimale du modèle, en %%")
    parser.add_argument("--confiance-max", help="confiance maximale du modèle, en %%")
    parser.add_argument("--out", type=Path, help="fichier à écrire (par défaut : la sortie)")
    parser.set_defaults(run=export)


def export(args: argparse.Namespace) -> int:
    """Writes the same files as the admin view's exports, through the same code."""
    if args.out is None:
        rows = with_relais(lambda relais: _write(relais, args, sys.stdout.buffer))
        sys.stdout.flush()
    else:
        # Written aside and renamed at the end: a failed export leaves no half file behind.
        partial = args.out.with_name(args.out.name + ".partiel")
        try:
            with partial.open("wb") as out:
                rows = with_relais(lambda relais: _write(relais, args, out))
            partial.replace(args.out)
        finally:
            partial.unlink(missing_ok=True)
    print(f"{rows} ligne(s) exportée(s)" + (f" dans {args.out}" if args.out else ""),
          file=sys.stderr)
    return 0


async def _write(relais: Relais, args: argparse.Namespace, out: BinaryIO) -> int:
    async with relais.db.read() as tx:
        row = await catalog.consultation(tx, args.consultation)
        associations = [await _association_id(tx, name) for name in args.association]
    if row is None:
        raise ValueError(f"consultation inconnue « {args.consultation} »")
    consultation = from_definition(row.definition, row.retention_days)
    query = MultiDict(
        [("theme", v) for v in args.theme] + [("territoire", v) for v in args.territoire]
        + [("association", str(v)) for v in associations]
        + [("canal", v) for v in args.canal]
        + [(key, value) for key, value in (
            ("du", args.du), ("au", args.au), ("confiance_min", args.confiance_min),
            ("confiance_max", args.confiance_max)) if value])
    if args.question:
        try:
            consultation.question(args.question)
        except UnknownQuestion:
            raise ValueError("Question inconnue.") from None
    answers = filters.parse(query, consultation, args.question)  # Invalid: a ValueError
    export = exports.Export(relais.db, consultation, args.what, args.format, answers,
                            separator=args.separateur, bom=args.bom)
    async for chunk in export.chunks():
        out.write(chunk)
    async with relais.db.transaction() as tx:
        audit.record(tx, actor="cli", action="export", target=consultation.id, at=utcnow(),
                     details={"what": args.what, "format": args.format,
                              "filters": urlencode(list(query.items())),
                              "rows": export.rows, "complete": True})
    return export.rows


async def _association_id(tx, name: str) -> int:
    """Finds an association by number or by name."""
    if name.isdigit():
        return int(name)
    association = await invites.association_by_name(tx, name)
    if association is None:
        raise ValueError(f"association inconnue « {name} »")
    return association.id

"""`relais nlp train|evaluate|classify`: the theme models of free answers."""

import argparse
import json
from pathlib import Path

from bot.app import Relais
from bot.cli.runner import with_relais
from bot.themes import train_consultation, train_with_scores
from nlp import metrics
from nlp.data import read_jsonl
from nlp.model import load
from storage import labels


def define(parser: argparse.ArgumentParser) -> None:
    """Adds the actions of `relais nlp`."""
    actions = parser.add_subparsers(title="actions", metavar="ACTION")
    train = actions.add_parser("train", help="entraîner un modèle de thèmes")
    source = train.add_mutually_exclusive_group(required=True)
    source.add_argument("--consultation", help="depuis le fichier de consultation et les "
                                               "réponses étiquetées ; le modèle devient actif")
    source.add_argument("--data", type=Path, help="depuis un fichier JSON Lines "
                                                  "{\"text\", \"label\"} (avec --model)")
    source.add_argument("--missing", action="store_true",
                        help="chaque consultation à thèmes qui n'a pas encore de modèle actif "
                             "(depuis son fichier : ce que fait `make run` au premier lancement)")
    train.add_argument("--model", type=Path, help="dossier où écrire le modèle (avec --data)")
    train.set_defaults(run=train_model)
    evaluate = actions.add_parser("evaluate", help="mesurer un modèle sur un fichier étiqueté")
    evaluate.add_argument("--data", type=Path, required=True, help="fichier JSON Lines")
    evaluate.add_argument("--model", type=Path, required=True, help="dossier du modèle")
    evaluate.add_argument("--json", action="store_true", help="un objet JSON sur la sortie")
    evaluate.set_defaults(run=evaluate_model)
    classify = actions.add_parser("classify", help="(re)classer toutes les réponses d'une "
                                                   "consultation avec son modèle actif")
    classify.add_argument("--consultation", required=True)
    classify.set_defaults(run=classify_answers)


def _progress(line: str) -> None:
    print(line, flush=True)


def train_model(args: argparse.Namespace) -> int:
    """Trains a model from a labelled file, or a consultation's active model from its answers."""
    if args.data is None:
        with_relais(lambda relais: _train_consultations(relais, args))
        return 0
    if args.model is None:
        raise ValueError("--data demande --model DOSSIER (où écrire le modèle)")
    texts, themes = read_jsonl(args.data)
    _progress(f"{len(texts)} exemples, {len(set(themes))} thèmes lus dans {args.data}")
    classifier = train_with_scores(texts, themes, args.model.name or "modele", _progress)
    classifier.save(args.model)
    _progress(f"modèle {classifier.version} écrit dans {args.model}")
    return 0


async def _train_consultations(relais: Relais, args: argparse.Namespace) -> None:
    models_dir = relais.settings.models_dir
    if args.missing:
        async with relais.db.read() as tx:
            active = await labels.active_models(tx)
        for flow in sorted(relais.flows.values(), key=lambda f: f.id):
            if flow.themes and flow.id not in active:
                await train_consultation(relais.db, flow, models_dir, _progress)
        return
    flow = relais.flows.get(args.consultation)
    if flow is None:
        raise ValueError(f"consultation inconnue « {args.consultation} » (connues : "
                         f"{', '.join(sorted(relais.flows))})")
    await train_consultation(relais.db, flow, models_dir, _progress)


def evaluate_model(args: argparse.Namespace) -> int:
    """Prints a model's scores on a labelled file, as a table or as JSON."""
    texts, themes = read_jsonl(args.data)
    result = metrics.evaluate(load(args.model), texts, themes)
    print(json.dumps(result, ensure_ascii=False) if args.json else metrics.table(result))
    return 0


def classify_answers(args: argparse.Namespace) -> int:
    """Classifies every answer of a consultation again with its active model."""
    total = with_relais(lambda relais: _classify(relais, args.consultation))
    _progress(f"{total} réponses classées avec le modèle actif")
    return 0


async def _classify(relais: Relais, consultation: str) -> int:
    if consultation not in relais.flows:
        raise ValueError(f"consultation inconnue « {consultation} »")
    relais.classification.flows = {consultation: relais.flows[consultation]}
    total = 0
    while done := await relais.classification.run_once():
        total += done
        _progress(f"{total} réponses classées…")
    return total

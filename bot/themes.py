"""Training theme models from what people taught: codebooks, officials' and participants' labels."""

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bot.engine import Flow
from nlp import metrics
from nlp.data import held_out
from nlp.model import Classifier, train
from storage import labels
from storage.database import Database

Progress = Callable[[str], None]


def codebook_rows(flow: Flow) -> list[tuple[str, str]]:
    """Returns the example answers a consultation file gives for each theme."""
    return [(example, theme.id) for theme in flow.themes for example in theme.examples]


def theme_phrases(flow: Flow) -> dict[str, list[str]]:
    """Returns what a consultation file says of each theme besides examples: its label and
    each part of its description ("Coût des billets et abonnements, tarifs réduits" gives two
    parts), which the model learns as short examples."""
    return {theme.id: [theme.label] + [part.strip() for part in
                                       re.split(r"[,;.]", theme.description) if part.strip()]
            for theme in flow.themes}


def train_with_scores(texts: list[str], themes: list[str], name: str, progress: Progress,
                      descriptions: dict[str, list[str]] | None = None) -> Classifier:
    """Scores a model on a held-out fifth, then trains the one to keep on every row; the
    theme descriptions are learned by both and never held out."""
    train_rows, test_rows = held_out(themes)
    scores: dict = {}
    if test_rows:
        progress(f"entraînement sur {len(train_rows)} exemples, mesure sur {len(test_rows)}…")
        trial = train([texts[i] for i in train_rows], [themes[i] for i in train_rows], name,
                      descriptions=descriptions)
        scores = metrics.evaluate(trial, [texts[i] for i in test_rows],
                                  [themes[i] for i in test_rows])
        progress(metrics.table(scores))
    progress(f"entraînement du modèle final sur les {len(texts)} exemples…")
    return train(texts, themes, name, scores={k: scores[k] for k in ("macro_f1", "accuracy")}
                 if scores else {}, descriptions=descriptions)


def train_flow(flow: Flow, taught: list[tuple[str, str]], progress: Progress) -> Classifier:
    """Trains a consultation's model from its codebook and the (text, theme) rows people
    labelled; themes the file no longer has are left out."""
    rows = codebook_rows(flow)
    known = {theme.id for theme in flow.themes}
    rows += [(text, theme) for text, theme in taught if theme in known]
    if len({theme for _, theme in rows}) < 2:
        raise ValueError(f"« {flow.id} » : il faut des exemples d'au moins deux thèmes")
    return train_with_scores([t for t, _ in rows], [m for _, m in rows], flow.id, progress,
                             descriptions=theme_phrases(flow))


async def train_consultation(db: Database, flow: Flow, models_dir: Path,
                             progress: Progress) -> Classifier:
    """Trains, saves and activates a consultation's model from its codebook and people's labels."""
    rows = codebook_rows(flow)
    async with db.read() as tx:
        taught = await labels.training_rows(tx, flow.id)
    progress(f"{len(rows)} exemples du fichier de consultation, {len(taught)} réponses "
             "étiquetées par des personnes")
    classifier = train_flow(flow, taught, progress)
    directory = models_dir / flow.id / classifier.version
    classifier.save(directory)
    async with db.transaction() as tx:
        await labels.register_model(
            tx, version=classifier.version, consultation_id=flow.id, path=str(directory),
            training_rows=classifier.meta["training_rows"], scores=classifier.meta["scores"],
            at=datetime.now(UTC))
    progress(f"modèle {classifier.version} actif pour « {flow.id} » ({directory})")
    return classifier

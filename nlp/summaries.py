"""What answers on one theme say: their most frequent meaningful terms and typical answers."""

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

import spacy
from spacy.language import Language

from nlp.model import BASE_MODEL
from nlp.normalise import fold_accents, normalise_many
from nlp.redaction import PLACEHOLDERS

CONTENT = {"NOUN", "PROPN", "ADJ", "VERB"}
MAX_TERMS = 12
MAX_EXAMPLES = 3
MAX_EXAMPLE_CHARS = 280
# A quote shorter than this (spaces counted once) or of a single word says too little.
MIN_EXAMPLE_CHARS = 20
# Shorter words are mostly leftovers of SMS writing or of tokenisation ("pr", "c", "g").
MIN_TERM_LETTERS = 3
# Two quotes sharing this share of their words (Jaccard) say the same thing: one is enough.
NEAR_DUPLICATE = 0.6
# The words of the redaction's placeholders ([téléphone], [courriel]...) are no terms; they
# follow nlp.redaction.PLACEHOLDERS, the one list of them.
PLACEHOLDER_WORDS = frozenset(fold_accents(placeholder.strip("[]").lower())
                              for placeholder in PLACEHOLDERS.values())
_WORDS = re.compile(r"\w+")


@dataclass(frozen=True)
class Summary:
    """One theme's frequent terms (with counts) and its most typical answers.

    `examples` holds indices into the list of texts given to `summarise`, the most typical
    first, so that callers keep references to answers rather than copies of their text.
    """

    terms: list[tuple[str, int]]
    examples: list[int]


def load_analyser() -> Language:
    """Loads the French pipeline with what lemmas and noun chunks need."""
    return spacy.load(BASE_MODEL, exclude=["ner"])


def summarise(nlp: Language, texts: list[str], scores: list[float]) -> Summary:
    """Counts the lemmas and noun chunks of the answers, SMS spellings normalised first
    (each term once per answer: how many people said it), and picks typical answers: the
    surest ones, long enough and not saying what a picked one already says."""
    return Summary(frequent_terms(nlp, texts), typical_answers(texts, scores))


def frequent_terms(nlp: Language, texts: list[str]) -> list[tuple[str, int]]:
    """Returns the most frequent terms with the number of answers using each; a term is
    counted without its accents and shown in its most common spelling."""
    counts: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for doc in nlp.pipe(normalise_many(texts), batch_size=256):
        seen: set[str] = set()
        for token in doc:
            if token.pos_ in CONTENT and not token.is_stop and token.is_alpha:
                # Names of places keep their capital: "Amiens", not "amiens".
                lemma = token.lemma_.strip()
                _note(lemma if token.pos_ == "PROPN" else lemma.lower(), seen, spellings)
        for chunk in doc.noun_chunks:
            words = [t.lemma_.lower() for t in chunk
                     if not t.is_stop and t.is_alpha and len(t.lemma_) >= MIN_TERM_LETTERS]
            if 2 <= len(words) <= 4:
                _note(" ".join(words), seen, spellings)
        counts.update(seen)
    shown = [(spellings[key].most_common(1)[0][0], n) for key, n in counts.most_common(MAX_TERMS)]
    return [(term, n) for term, n in shown if n > 1] or shown


def _note(term: str, seen: set[str], spellings: dict[str, Counter[str]]) -> None:
    """Records one term of an answer, unless it is too short or a placeholder."""
    key = fold_accents(term.lower())
    if len(key) < MIN_TERM_LETTERS or key in PLACEHOLDER_WORDS:
        return
    if key not in seen:
        seen.add(key)
        spellings[key][term] += 1


def typical_answers(texts: list[str], scores: list[float]) -> list[int]:
    """Returns the indices of up to MAX_EXAMPLES answers, the surest first, leaving out those
    too short, too long, of one word or nearly the same as one already picked."""
    picked: list[int] = []
    kept: list[set[str]] = []
    normalised = normalise_many(texts)
    for index in sorted(range(len(texts)), key=lambda i: (-scores[i], i)):
        text = " ".join(texts[index].split())
        words = set(_WORDS.findall(fold_accents(normalised[index].lower())))
        if not MIN_EXAMPLE_CHARS <= len(text) <= MAX_EXAMPLE_CHARS or len(text.split()) < 2:
            continue
        if any(len(words & other) / max(len(words | other), 1) >= NEAR_DUPLICATE
               for other in kept):
            continue
        picked.append(index)
        kept.append(words)
        if len(picked) == MAX_EXAMPLES:
            break
    return picked

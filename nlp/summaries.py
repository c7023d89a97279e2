"""What answers on one theme say: their most frequent meaningful terms and typical answers."""

from collections import Counter
from dataclasses import dataclass

import spacy
from spacy.language import Language

from nlp.model import BASE_MODEL

CONTENT = {"NOUN", "PROPN", "ADJ", "VERB"}
MAX_TERMS = 12
MAX_EXAMPLES = 3
MAX_EXAMPLE_CHARS = 280
PLACEHOLDERS = {"téléphone", "courriel", "adresse", "personne", "nir", "iban"}


@dataclass(frozen=True)
class Summary:
    """One theme's frequent terms (with counts) and most typical answers."""

    terms: list[tuple[str, int]]
    examples: list[int]  # positions of the typical answers in the texts given


def load_analyser() -> Language:
    """Loads the French pipeline with what lemmas and noun chunks need."""
    return spacy.load(BASE_MODEL, exclude=["ner"])


def summarise(nlp: Language, texts: list[str], scores: list[float]) -> Summary:
    """Counts lemmas and noun chunks (stop words left out) and keeps the surest answers."""
    counts: Counter[str] = Counter()
    for doc in nlp.pipe(texts, batch_size=256):
        seen: set[str] = set()  # a term counts once per answer: how many people said it
        for token in doc:
            lemma = token.lemma_.lower().strip()
            if (token.pos_ in CONTENT and not token.is_stop and token.is_alpha
                    and len(lemma) > 2 and lemma not in PLACEHOLDERS):
                seen.add(lemma)
        for chunk in doc.noun_chunks:
            words = [t for t in chunk if not t.is_stop and t.is_alpha]
            if 2 <= len(words) <= 4:
                seen.add(" ".join(t.lemma_.lower() for t in words))
        counts.update(seen)
    ranked = sorted(range(len(texts)), key=lambda i: -scores[i])
    examples: list[int] = []
    seen: set[str] = set()
    for i in ranked:
        text = " ".join(texts[i].split())
        if text and text not in seen and len(text) <= MAX_EXAMPLE_CHARS:
            examples.append(i)
            seen.add(text)
        if len(examples) == MAX_EXAMPLES:
            break
    return Summary([(term, n) for term, n in counts.most_common(MAX_TERMS) if n > 1] or
                   counts.most_common(MAX_TERMS), examples)

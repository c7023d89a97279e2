"""Theme summaries: frequent terms in standard spelling, typical answers as indices."""

import pytest

from nlp.redaction import PLACEHOLDERS
from nlp.summaries import (
    MAX_EXAMPLES,
    MIN_EXAMPLE_CHARS,
    Summary,
    load_analyser,
    summarise,
)


@pytest.fixture(scope="module")
def analyser():
    return load_analyser()


SMS_ANSWERS = [
    "tjrs en retar le matin",
    "jpaye le train et il est tjrs en retar",
    "g raté mon rdv a cause du retard",
    "jser encore en retard au taf demain",
    "le train est toujours en retard",
    "Le TER est en retard, g attendu 1h",
]


def test_terms_are_standard_forms_of_sms_spellings(analyser):
    summary = summarise(analyser, SMS_ANSWERS, [0.9] * len(SMS_ANSWERS))
    terms = dict(summary.terms)
    assert terms["retard"] == len(SMS_ANSWERS)  # counted once per answer
    for sms in ("tjrs", "retar", "jpaye", "jser", "g", "rdv", "taf"):
        assert sms not in terms
    assert all(len(word) >= 3 for term in terms for word in term.split())


def test_placeholders_of_the_redaction_are_no_terms(analyser):
    # Built from the redaction's own list, so a placeholder added there is covered here too.
    texts = ["appelez " + " et ".join(PLACEHOLDERS.values())] * 3
    terms = dict(summarise(analyser, texts, [0.5] * 3).terms)
    assert {"téléphone", "courriel", "adresse", "personne"} <= {
        placeholder.strip("[]") for placeholder in PLACEHOLDERS.values()}
    assert not {placeholder.strip("[]") for placeholder in PLACEHOLDERS.values()} & set(terms)
    assert "appeler" in terms


def test_a_term_written_with_and_without_accents_counts_once(analyser):
    texts = ["la sécurité dans les gares", "securite dans les trains", "plus de sécurité"]
    terms = dict(summarise(analyser, texts, [0.5] * 3).terms)
    assert terms["sécurité"] == 3 and "securite" not in terms


def test_typical_answers_are_indices_of_the_surest_long_enough_distinct_answers(analyser):
    texts = [
        "Trop cher",                                      # 0: too short
        "Abonnements",                                    # 1: one word
        "Le billet de TER coûte trop cher pour moi",      # 2
        "le billet de TER coute trop cher pour moi !",    # 3: near-duplicate of 2
        "   Le   prix   ",                                # 4: too short once spaces count once
        "Les abonnements mensuels sont hors de prix",     # 5
        "Un tarif unique pour la région serait plus juste",  # 6
        "Je paye 80 euros par mois pour aller travailler",  # 7
    ]
    scores = [0.99, 0.98, 0.9, 0.95, 0.97, 0.8, 0.6, 0.7]
    summary = summarise(analyser, texts, scores)
    assert isinstance(summary, Summary)
    assert summary.examples == [3, 5, 7][:MAX_EXAMPLES]
    assert all(len(" ".join(texts[i].split())) >= MIN_EXAMPLE_CHARS for i in summary.examples)


def test_no_answer_long_enough_gives_no_example(analyser):
    assert summarise(analyser, ["ok", "trop cher", "bof"], [0.9, 0.8, 0.7]).examples == []

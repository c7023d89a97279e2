"""Answers written in words are read as people mean them: choices by label, plural, typo or
inside a sentence, scales in words or "x sur 5", yes and no in everyday French, communes by
name (and a question when several share it); what cannot be read is said plainly."""

from pathlib import Path

import pytest

from bot.consultations import load_flows
from bot.engine import QuestionType
from bot.engine.answers import Invalid, read_answer

FLOWS = load_flows(sorted((Path(__file__).parents[2] / "bot" / "flows").glob("*.yaml")),
                   "https://relais.example.org")


def question(consultation: str, question_id: str):
    return FLOWS[consultation].question(question_id)


@pytest.mark.parametrize(("consultation", "question_id", "raw", "expected"), [
    # single choice: label, plural, typo, sentence, number, number word
    ("mobilite", "priorite", "moins de retard", "ponctualite"),
    ("mobilite", "priorite", "Moins de retards", "ponctualite"),
    ("mobilite", "priorite", "moin de retards", "ponctualite"),
    ("mobilite", "priorite", "des pris plus bas", "prix"),
    ("mobilite", "priorite", "il faut desservir les villages", "rural"),
    ("mobilite", "priorite", "2", "ponctualite"),
    ("mobilite", "priorite", "deux", "ponctualite"),
    ("mobilite", "priorite", "l'accessibilité", "accessibilite"),
    ("jeunesse", "situation", "je suis en apprentissage", "apprentissage"),
    ("jeunesse", "situation", "En aprentissage", "apprentissage"),
    ("jeunesse", "situation", "je cherche un emploi", "recherche"),
    ("jeunesse", "situation", "au chômage depuis 3 mois", "recherche"),
    ("jeunesse", "situation", "étudiante", "etudes"),
    # multiple choice: numbers, words, a sentence
    ("mobilite", "modes", "1 3", ["train", "velo"]),
    ("mobilite", "modes", "le train et le vélo", ["train", "velo"]),
    ("mobilite", "modes", "je prends le train, parfois le bus", ["train", "car"]),
    ("mobilite", "modes", "voitures", ["voiture"]),
    ("jeunesse", "sujets", "logement, permis", ["logement", "transports"]),
    # scale
    ("mobilite", "note_ter", "4", 4),
    ("mobilite", "note_ter", "2 sur 5", 2),
    ("mobilite", "note_ter", "4/5", 4),
    ("mobilite", "note_ter", "trois sur cinq", 3),
    ("mobilite", "note_ter", "je mets 3", 3),
    # yes / no
    ("jeunesse", "benevole", "non pas le temps", False),
    ("jeunesse", "benevole", "Non, pas pour l'instant", False),
    ("jeunesse", "benevole", "oui bien sûr", True),
    ("jeunesse", "benevole", "ouais carrément", True),
    ("jeunesse", "benevole", "jamais de la vie", False),
    ("mobilite", "retour", "ok", True),
    # postcode, or a commune's name
    ("mobilite", "territoire", "80000", "80"),
    ("mobilite", "territoire", "80 000", "80"),
    ("mobilite", "territoire", "75011", "hors_region"),
    ("mobilite", "territoire", "Amiens", "80"),
    ("mobilite", "territoire", "amien", "80"),
    ("mobilite", "territoire", "St Quentin", "02"),
    ("mobilite", "territoire", "Boulogne-sur-Mer", "62"),
    ("mobilite", "territoire", "je suis à Lille", "59"),
    ("mobilite", "territoire", "Abeville", "80"),
])
def test_answers_in_words_are_read(consultation, question_id, raw, expected):
    assert read_answer(question(consultation, question_id), raw) == expected


@pytest.mark.parametrize(("consultation", "question_id", "raw", "said"), [
    ("mobilite", "priorite", "je sais pas", ""),
    ("mobilite", "priorite", "plus", ""),  # "Plus de trains" and "Plus de pistes": which?
    ("jeunesse", "sujets", "1 2 3 4", "Vous en avez choisi 4 : 3 au plus, s'il vous plaît."),
    ("jeunesse", "sujets", "formation, stage, logement et permis",
     "Vous en avez choisi 4 : 3 au plus, s'il vous plaît."),
    ("mobilite", "note_ter", "7 sur 5", ""),
    ("jeunesse", "benevole", "peut-être", ""),
    ("mobilite", "territoire", "8000", ""),
    ("mobilite", "territoire", "Paris",
     "Je ne trouve pas « Paris » parmi les communes des Hauts-de-France."),
    ("mobilite", "territoire", "Brie",
     "Plusieurs communes portent ce nom : Brie (80200) ou Brie (02870) ?"),
])
def test_what_cannot_be_read_is_said(consultation, question_id, raw, said):
    with pytest.raises(Invalid) as refused:
        read_answer(question(consultation, question_id), raw)
    assert str(refused.value) == said


def test_every_pilot_choice_is_found_by_its_own_label_and_aliases():
    for flow in FLOWS.values():
        for q in flow.questions:
            if q.type not in (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE):
                continue
            for choice in q.choices:
                expected = [choice.value] if q.type is QuestionType.MULTIPLE_CHOICE \
                    else choice.value
                for name in (choice.label, *choice.aliases):
                    assert read_answer(q, name) == expected, (flow.id, q.id, name)

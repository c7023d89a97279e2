"""MES DONNEES in words: each kind of answer as the person gave it, cut only where the channel
needs it and then said so, and a link that only its holder's signature opens."""

import pytest

from bot.consultations import default_paths, load_flows
from bot.my_data import Held, MyData

FLOWS = load_flows(default_paths(), "https://relais.example.org/confidentialite")
SECRET = "k" * 32


def reader(**kwargs) -> MyData:
    return MyData(FLOWS, SECRET, "https://relais.example.org/", **kwargs)


@pytest.mark.parametrize(("held", "words"), [
    (Held("mobilite", "territoire", "80", "Amiens"), ("Code postal", "Amiens")),
    (Held("mobilite", "age", "a75_plus", "5"), ("Âge", "75 ans et plus")),
    (Held("mobilite", "modes", ["train", "marche"], "1 6"),
     ("Vos déplacements", "Le train (TER), La marche")),
    (Held("mobilite", "note_ter", 4, "4 sur 5"), ("Note du TER", "4 sur 5")),
    (Held("mobilite", "retour", True, "ouais"), ("Recevoir la suite", "Oui")),
    (Held("mobilite", "retour", False, "non merci"), ("Recevoir la suite", "Non")),
    (Held("mobilite", "probleme", None, "  Trop de retards  "),
     ("Plus gros problème", "Trop de retards")),
    (Held("mobilite", "priorite", None, "bof"), ("Priorité pour la Région", "bof")),  # unread
    (Held("jeunesse", "benevole", True, "oui"), ("Bénévole", "Oui")),
    # a question since removed, a consultation no longer loaded: no internal code shown
    (Held("mobilite", "disparue", None, "un texte"), ("Question retirée depuis", "un texte")),
    (Held("ancienne", "q1", None, "mot"), ("Question retirée depuis", "mot")),
    (Held("mobilite", "retour_12", None, " Merci "),
     ("Votre réponse à un message de la Région", "Merci")),
])
def test_each_answer_reads_as_its_question_s_label_and_the_words_chosen(held, words):
    assert reader().in_words(held) == words


def test_the_title_comes_once_per_consultation_in_the_order_answered():
    held = [Held("mobilite", "territoire", "80", "80000"),
            Held("mobilite", "age", "a15_29", "1"),
            Held("jeunesse", "territoire", "59", "59000")]
    text = reader().message(held, "telegram", 7)
    assert text.split("\n") == [
        "Vos réponses enregistrées :", "Mobilités du quotidien", "- Code postal : 80000",
        "- Âge : 15-29 ans", "Jeunesse : se former, travailler, s'engager",
        "- Code postal : 59000", "Envoyez SUPPRIMER pour tout effacer."]


@pytest.mark.parametrize(("channel", "length", "cut"), [
    ("sms", 60, False), ("sms", 61, True), ("telegram", 400, False), ("telegram", 401, True),
    ("web", 401, True),
])
def test_an_answer_is_cut_only_past_the_channel_s_room_and_then_it_says_so(channel, length,
                                                                          cut):
    text = reader().message([Held("mobilite", "idee", None, "x" * length)], channel, 7)
    line = next(line for line in text.split("\n") if line.startswith("- Votre idée"))
    assert line.endswith("…") is cut
    assert ("Réponses longues coupées. Tout lire pendant 24 h : "
            "https://relais.example.org/mes-donnees/" in text) is cut


def test_without_a_public_address_the_cut_is_said_without_a_link():
    text = MyData(FLOWS, SECRET, None).message([Held("mobilite", "idee", None, "x" * 99)],
                                               "sms", 7)
    assert "Réponses longues coupées.\n" in text and "http" not in text


def test_a_link_opens_its_own_participant_only_and_not_once_expired():
    link = reader().link(42)
    token = link.rsplit("/", 1)[1]
    assert reader().participant_of(token) == 42
    assert MyData(FLOWS, "another secret", None).participant_of(token) is None
    assert reader().participant_of(token[:-2]) is None
    assert reader().participant_of("42") is None
    assert reader(link_seconds=-1).participant_of(token) is None  # past its day


def test_nothing_held_says_so():
    assert reader().message([], "sms", 7).startswith("Nous ne gardons aucune réponse de vous.")

"""The pure engine: every question type, conditions, re-asking, keywords, expiry, limits."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.engine import (
    END,
    MAX_TURNS,
    AnswerRecorded,
    AnswerRejected,
    Choice,
    Condition,
    DataRequested,
    ErasureConfirmed,
    Flow,
    FlowCompleted,
    FlowFailed,
    FlowStarted,
    Inbound,
    MessageIgnored,
    ParticipantStopped,
    Question,
    QuestionSkipped,
    QuestionType,
    SessionResumed,
    Status,
    advance,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

CHOICES = (Choice("train", "Le train"), Choice("car", "Le car"),
           Choice("velo", "Le vélo", aliases=("bicyclette",)),
           Choice("prix", "Le prix des billets"))
TWO_TEXTS = (Question("q", QuestionType.TEXT, "Q ?"), Question("r", QuestionType.TEXT, "R ?"))


def make_flow(*questions: Question, expiry_hours: float = 48) -> Flow:
    return Flow(id="essai", title="Essai", welcome="Bienvenue.", consent="D'accord ?",
                consent_refused="Tant pis.", closing="Merci, c'est fini.",
                questions=questions, expiry_hours=expiry_hours)


def play(flow: Flow, *messages: str, session=None, start=T0):
    """Sends messages one by one; returns the last session and every event."""
    events, at = [], start
    for text in messages:
        at += timedelta(minutes=1)
        turn = advance(flow, session, Inbound(text, at))
        session = turn.session
        events += turn.events
    return session, events


def answered(events):
    return {e.question: e.value for e in events if isinstance(e, AnswerRecorded) and e.valid}


def last_reply(events):
    return [e for e in events if hasattr(e, "text")][-1].text


@pytest.mark.parametrize(("question", "raw", "expected"), [
    (Question("q", QuestionType.TEXT, "?"), "  Plus de trains le soir  ", "Plus de trains le soir"),
    (Question("q", QuestionType.TEXT, "?"), "🚆🚆", "🚆🚆"),
    (Question("q", QuestionType.SINGLE_CHOICE, "?", choices=CHOICES), "2", "car"),
    (Question("q", QuestionType.SINGLE_CHOICE, "?", choices=CHOICES), "deux", "car"),
    (Question("q", QuestionType.SINGLE_CHOICE, "?", choices=CHOICES), "  LE VELO ", "velo"),
    (Question("q", QuestionType.SINGLE_CHOICE, "?", choices=CHOICES), "le vélo.", "velo"),
    (Question("q", QuestionType.SINGLE_CHOICE, "?", choices=CHOICES), "bicyclette", "velo"),
    (Question("q", QuestionType.SINGLE_CHOICE, "?", choices=CHOICES), "Le prix", "prix"),
    (Question("q", QuestionType.SINGLE_CHOICE, "?", choices=CHOICES), "la première", "train"),
    (Question("q", QuestionType.MULTIPLE_CHOICE, "?", choices=CHOICES), "3, 1", ["train", "velo"]),
    (Question("q", QuestionType.MULTIPLE_CHOICE, "?", choices=CHOICES), "1 3", ["train", "velo"]),
    (Question("q", QuestionType.MULTIPLE_CHOICE, "?", choices=CHOICES), "le car et le velo",
     ["car", "velo"]),
    (Question("q", QuestionType.MULTIPLE_CHOICE, "?", choices=CHOICES), "Le prix des billets",
     ["prix"]),
    (Question("q", QuestionType.SCALE, "?"), "4", 4),
    (Question("q", QuestionType.SCALE, "?"), "quatre", 4),
    (Question("q", QuestionType.SCALE, "?"), "4/5", 4),
    (Question("q", QuestionType.YES_NO, "?"), "Oui", True),
    (Question("q", QuestionType.YES_NO, "?"), "ouais", True),
    (Question("q", QuestionType.YES_NO, "?"), "NON merci", False),
    (Question("q", QuestionType.POSTCODE, "?"), "80000", "80"),
    (Question("q", QuestionType.POSTCODE, "?"), "02 100", "02"),
    (Question("q", QuestionType.POSTCODE, "?"), "75011", "hors_region"),
    (Question("q", QuestionType.NUMBER, "?", minimum=0, maximum=30), "12", 12),
])
def test_answers_are_read_into_normalised_values(question, raw, expected):
    _, events = play(make_flow(question), "bonjour", "oui", raw)
    assert answered(events) == {"q": expected}
    assert isinstance(events[-2], FlowCompleted)


@pytest.mark.parametrize(("question", "raw"), [
    (Question("q", QuestionType.TEXT, "?"), "   "),
    (Question("q", QuestionType.SINGLE_CHOICE, "?", choices=CHOICES), "7"),
    (Question("q", QuestionType.SINGLE_CHOICE, "?", choices=CHOICES), "le bateau"),
    (Question("q", QuestionType.MULTIPLE_CHOICE, "?", choices=CHOICES), "1, bateau"),
    (Question("q", QuestionType.SCALE, "?"), "6"),
    (Question("q", QuestionType.SCALE, "?"), "bof"),
    (Question("q", QuestionType.YES_NO, "?"), "peut-être"),
    (Question("q", QuestionType.POSTCODE, "?"), "80 0"),
    (Question("q", QuestionType.POSTCODE, "?"), "800"),
    (Question("q", QuestionType.NUMBER, "?", minimum=0, maximum=30), "31"),
])
def test_unreadable_answers_are_rejected_with_a_hint(question, raw):
    session, events = play(make_flow(question), "bonjour", "oui", raw)
    assert isinstance(events[-2], AnswerRejected)
    assert "Je n'ai pas compris" in last_reply(events)
    assert session.status is Status.ACTIVE and session.question == "q"


@pytest.mark.parametrize(("question", "raw", "said"), [
    (Question("q", QuestionType.MULTIPLE_CHOICE, "?", choices=CHOICES, max_choices=2), "1,2,3",
     "Vous en avez choisi 3 : 2 au plus, s'il vous plaît.\n?"),
    (Question("q", QuestionType.POSTCODE, "?"), "Paris",
     "Je ne trouve pas « Paris » parmi les communes des Hauts-de-France. Écrivez votre code "
     "postal en 5 chiffres, par exemple 80000.\n?"),
])
def test_some_answers_are_refused_with_their_own_reason(question, raw, said):
    session, events = play(make_flow(question), "bonjour", "oui", raw)
    assert isinstance(events[-2], AnswerRejected)
    assert last_reply(events).startswith(said)
    assert session.question == "q"


def test_a_required_question_is_reasked_twice_then_recorded_invalid():
    flow = make_flow(Question("age", QuestionType.NUMBER, "Âge ?", minimum=0, maximum=120),
                     Question("fin_q", QuestionType.TEXT, "Un mot ?"))
    session, events = play(flow, "bonjour", "oui", "vieux", "très vieux", "antique")
    rejected = [e for e in events if isinstance(e, AnswerRejected)]
    assert [e.attempt for e in rejected] == [1, 2]
    invalid = [e for e in events if isinstance(e, AnswerRecorded)]
    assert invalid == [AnswerRecorded("age", "antique", None, valid=False)]
    assert session.question == "fin_q" and session.attempts == 0


def test_an_optional_question_is_skipped_after_three_bad_answers_or_on_passer():
    flow = make_flow(Question("age", QuestionType.NUMBER, "Âge ?", required=False),
                     Question("avis", QuestionType.TEXT, "Avis ?"))
    _, events = play(flow, "bonjour", "oui", "x", "y", "z")
    assert QuestionSkipped("age") in events
    session, events = play(flow, "bonjour", "oui", "passer")
    assert QuestionSkipped("age") in events and session.question == "avis"
    assert "PASSER" in events[4].text  # the optional question says how to skip it


def test_a_condition_shows_a_question_only_when_an_earlier_answer_matches():
    flow = make_flow(
        Question("modes", QuestionType.MULTIPLE_CHOICE, "Modes ?", choices=CHOICES),
        Question("velo", QuestionType.TEXT, "Le vélo ?",
                 when=Condition("modes", any_of=("velo",))),
        Question("note", QuestionType.SCALE, "Note ?"),
    )
    session, _ = play(flow, "bonjour", "oui", "1, 3")
    assert session.question == "velo"
    session, _ = play(flow, "bonjour", "oui", "1")
    assert session.question == "note"


def test_choices_can_jump_and_questions_can_end_early():
    flow = make_flow(
        Question("a", QuestionType.SINGLE_CHOICE, "?",
                 choices=(Choice("x", "X", next="c"), Choice("y", "Y", next=END))),
        Question("b", QuestionType.TEXT, "B ?"),
        Question("c", QuestionType.TEXT, "C ?"),
    )
    assert play(flow, "bonjour", "oui", "X")[0].question == "c"
    assert play(flow, "bonjour", "oui", "Y")[0].status is Status.COMPLETED


def test_a_flow_whose_jumps_loop_fails_instead_of_looping():
    flow = make_flow(Question("a", QuestionType.TEXT, "A ?", next="b"),
                     Question("b", QuestionType.TEXT, "B ?", next="a"))
    session, events = play(flow, "bonjour", "oui", *["encore"] * (MAX_TURNS - 1))
    assert session.status is Status.ACTIVE
    session, events = play(flow, "encore", session=session)
    assert session.status is Status.FAILED
    assert FlowFailed(f"more than {MAX_TURNS} turns") in events


def test_the_first_message_starts_with_the_notice_and_consent():
    session, events = play(make_flow(Question("q", QuestionType.TEXT, "?")), "Salut")
    assert isinstance(events[0], FlowStarted)
    assert [e.text for e in events[1:]] == ["Bienvenue.", "D'accord ?"]
    assert session.status is Status.CONSENT


@pytest.mark.parametrize("refusal", ["non", "NON", "Non merci"])
def test_refused_consent_keeps_nothing(refusal):
    session, events = play(make_flow(Question("q", QuestionType.TEXT, "?")), "Salut", refusal)
    assert session.status is Status.REFUSED and session.answers == {}
    assert last_reply(events) == "Tant pis."


@pytest.mark.parametrize("stop", ["STOP", "stop", "Arrêt", "ARRET", " stop. ", "/stop"])
def test_stop_words_opt_out_whole_message_only(stop):
    flow = make_flow(Question("q", QuestionType.TEXT, "?"), Question("r", QuestionType.TEXT, "?"))
    session, events = play(flow, "Salut", "oui", stop)
    assert ParticipantStopped() in events and session.status is Status.STOPPED
    session, events = play(flow, "encore", session=session, start=T0 + timedelta(hours=1))
    assert events == [MessageIgnored("participant stopped")]


def test_stop_inside_a_sentence_is_an_answer():
    flow = make_flow(Question("q", QuestionType.TEXT, "?"))
    session, events = play(flow, "Salut", "oui", "Stop aux bouchons")
    assert answered(events) == {"q": "Stop aux bouchons"}
    assert session.status is Status.COMPLETED


def test_start_brings_a_stopped_participant_back_to_the_same_question():
    flow = make_flow(*TWO_TEXTS)
    session, _ = play(flow, "Salut", "oui", "réponse", "STOP", "START")
    assert session.status is Status.ACTIVE and session.question == "r"


def test_help_and_my_data_answer_then_repeat_the_question():
    flow = make_flow(Question("q", QuestionType.TEXT, "Q ?"))
    session, events = play(flow, "Salut", "oui", "AIDE")
    assert "RECOMMENCER" in events[-2].text and events[-1].text == "Q ?"
    session, events = play(flow, "mes données", session=session)
    assert events[0] == DataRequested() and events[-1].text == "Q ?"


def test_erasure_asks_for_confirmation():
    flow = make_flow(*TWO_TEXTS)
    session, events = play(flow, "Salut", "oui", "ma réponse", "SUPPRIMER")
    assert "OUI" in last_reply(events) and session.confirming_erasure
    kept, events = play(flow, "non", session=session)
    assert kept.answers == {"q": True} and kept.question == "r"  # words stay out of the session
    erased, events = play(flow, "oui", session=session)
    assert ErasureConfirmed() in events and erased.status is Status.ERASED
    assert erased.answers == {}


def test_restart_forgets_answers_and_asks_the_first_question_again():
    flow = make_flow(*TWO_TEXTS)
    session, _events = play(flow, "Salut", "oui", "un", "recommencer")
    assert session.answers == {} and session.question == "q"


def test_an_idle_session_resumes_with_a_reminder_and_does_not_take_the_message_as_answer():
    flow = make_flow(*TWO_TEXTS,
                     expiry_hours=24)
    session, _ = play(flow, "Salut", "oui", "un")
    later = T0 + timedelta(days=3)
    session, events = play(flow, "coucou", session=session, start=later)
    assert events[0] == SessionResumed()
    assert events[1].text == "Reprenons où vous en étiez (question 2 sur 2).\nR ?"
    assert session.answers == {"q": True} and session.question == "r"


def test_a_completed_consultation_says_so():
    flow = make_flow(Question("q", QuestionType.TEXT, "Q ?"))
    session, events = play(flow, "Salut", "oui", "un", "et encore")
    assert "déjà répondu" in last_reply(events)
    assert session.status is Status.COMPLETED


def test_media_gets_a_polite_request_for_text():
    flow = make_flow(Question("q", QuestionType.TEXT, "Q ?"))
    session, _ = play(flow, "Salut", "oui")
    turn = advance(flow, session, Inbound("", T0 + timedelta(hours=1), media=True))
    assert "message écrit" in turn.replies[0].text and turn.session.question == "q"


def test_choice_questions_offer_numbered_choices_and_buttons():
    flow = make_flow(Question("q", QuestionType.SINGLE_CHOICE, "Comment ?", choices=CHOICES))
    _, events = play(flow, "Salut", "oui")
    assert events[-1].text == ("Comment ?\n1. Le train\n2. Le car\n3. Le vélo\n"
                               "4. Le prix des billets")
    assert events[-1].choices[1] == ("2", "Le car")


def test_sessions_round_trip_through_plain_data():
    flow = make_flow(Question("q", QuestionType.MULTIPLE_CHOICE, "?", choices=CHOICES),
                     Question("r", QuestionType.TEXT, "?"))
    session, _ = play(flow, "Salut", "oui", "1,2")
    assert type(session).from_dict(session.to_dict()) == session


def test_passer_on_a_required_question_is_not_taken_as_an_answer():
    flow = make_flow(*TWO_TEXTS)
    session, events = play(flow, "Salut", "oui", "PASSER")
    assert answered(events) == {} and session.question == "q"
    assert last_reply(events).startswith("Cette question demande une réponse.")


def test_a_number_out_of_range_can_still_be_a_label():
    choices = (Choice("jeune", "Moins de 25 ans"), Choice("senior", "65", aliases=("65 ans",)))
    flow = make_flow(Question("q", QuestionType.SINGLE_CHOICE, "?", choices=choices))
    assert answered(play(flow, "Salut", "oui", "65")[1]) == {"q": "senior"}


def test_a_button_of_an_earlier_question_is_not_taken_for_the_current_one():
    flow = make_flow(Question("a", QuestionType.SINGLE_CHOICE, "A ?", choices=CHOICES),
                     Question("b", QuestionType.SINGLE_CHOICE, "B ?", choices=CHOICES))
    session, _ = play(flow, "Salut", "oui", "1")
    turn = advance(flow, session, Inbound("2", T0 + timedelta(hours=1), question="a"))
    assert turn.session.question == "b" and turn.session.answers == {"a": "train"}
    assert turn.replies[0].text.startswith("Ce choix répond à une question précédente.")
    turn = advance(flow, session, Inbound("2", T0 + timedelta(hours=1), question="b"))
    assert turn.session.answers == {"a": "train", "b": "car"}


def test_start_in_the_middle_of_a_consultation_repeats_the_question():
    flow = make_flow(*TWO_TEXTS)
    session, events = play(flow, "Salut", "oui", "un", "/start")
    assert session.answers == {"q": True} and session.question == "r"
    assert last_reply(events).endswith("R ?")


def test_help_as_a_first_message_gets_help_then_the_notice():
    flow = make_flow(Question("q", QuestionType.TEXT, "Q ?"))
    session, events = play(flow, "AIDE")
    texts = [e.text for e in events if hasattr(e, "text")]
    assert texts[0].startswith("Relais : votre avis pour la Région")
    assert texts[1:] == ["Bienvenue.", "D'accord ?"] and session.status is Status.CONSENT


def _theme_flow():
    from bot.engine import Theme

    return Flow(id="essai", title="Essai", welcome="Bienvenue.", consent="D'accord ?",
                consent_refused="Tant pis.", closing="Merci.",
                questions=(Question("q", QuestionType.TEXT, "Q ?", confirm_theme=True),
                           Question("r", QuestionType.TEXT, "R ?")),
                themes=(Theme("prix", "le prix des billets", "Les tarifs."),
                        Theme("retards", "les retards", "Ponctualité."),
                        Theme("velo", "le vélo", "Pistes."),
                        Theme("rural", "les villages", "Desserte."),
                        Theme("autre", "autre chose", "Le reste.")))


def test_a_confirm_theme_question_asks_whether_the_theme_was_understood():
    from bot.engine import ThemeConfirmed, ThemeRejected

    flow = _theme_flow()
    session, _ = play(flow, "Salut", "oui")
    turn = advance(flow, session, Inbound("Trop cher", T0 + timedelta(hours=1), theme="prix"))
    assert turn.replies[-1].text.startswith("J'ai compris : le prix des billets. C'est bien ça ?")
    assert turn.session.answers == {"q": True}
    yes = advance(flow, turn.session, Inbound("oui", T0 + timedelta(hours=2)))
    assert ThemeConfirmed("q", "prix") in yes.events and yes.session.question == "r"
    no = advance(flow, turn.session, Inbound("non", T0 + timedelta(hours=2)))
    assert ThemeRejected("q", "prix") in no.events and no.session.question == "r"
    assert no.replies[0].text == "D'accord, merci : une personne de la Région relira votre réponse."
    without = advance(flow, session, Inbound("Trop cher", T0 + timedelta(hours=1)))
    assert without.session.question == "r"  # no model, no question


def test_a_no_offers_the_closest_themes_and_a_pick_is_the_participants_theme():
    from bot.engine import THEME_CHOICE_STEP, ThemeChosen, ThemeRejected

    flow = _theme_flow()
    session, _ = play(flow, "Salut", "oui")
    asked = advance(flow, session, Inbound("le train est en retard et cher", T0,
                                           theme="prix",
                                           alternatives=("prix", "retards", "inconnu",
                                                         "velo", "rural", "autre")))
    assert asked.session.theme_options == ("retards", "velo", "rural")
    no = advance(flow, asked.session, Inbound("Non", T0))
    assert ThemeRejected("q", "prix") in no.events
    offer = no.replies[-1]
    assert offer.text.startswith("D'accord, merci de me corriger. De quoi parliez-vous surtout ?")
    assert offer.choices == (("1", "les retards"), ("2", "le vélo"), ("3", "les villages"),
                             ("4", "Autre chose"))
    assert offer.question == THEME_CHOICE_STEP and no.session.question == "q"
    for reply, theme in (("1", "retards"), ("les retards", "retards"), ("velo", "velo")):
        picked = advance(flow, no.session, Inbound(reply, T0))
        assert ThemeChosen("q", theme) in picked.events, reply
        assert picked.session.question == "r" and picked.session.theme_options == ()
    for reply in ("4", "Autre chose", "je sais pas"):
        other = advance(flow, no.session, Inbound(reply, T0))
        assert not [e for e in other.events if isinstance(e, ThemeChosen)], reply
        assert other.replies[0].text.startswith("D'accord, merci : une personne")
        assert other.session.question == "r"
    # A keyword keeps its meaning in the middle of it, and a restart forgets the offer.
    helped = advance(flow, no.session, Inbound("AIDE", T0))
    assert helped.replies[-1].question == THEME_CHOICE_STEP
    restarted = advance(flow, no.session, Inbound("RECOMMENCER", T0))
    assert restarted.session.theme_options == () and restarted.session.question == "q"
    again = advance(flow, restarted.session, Inbound("1", T0))
    assert not [e for e in again.events if isinstance(e, ThemeChosen)]


def test_a_reply_that_is_neither_yes_nor_no_goes_on_without_a_verdict():
    from bot.engine import ThemeConfirmed, ThemeRejected

    flow = _theme_flow()
    session, _ = play(flow, "Salut", "oui")
    asked = advance(flow, session, Inbound("trop cher", T0, theme="prix"))
    turn = advance(flow, asked.session, Inbound("bof", T0))
    assert not [e for e in turn.events if isinstance(e, ThemeConfirmed | ThemeRejected)]
    assert turn.session.question == "r"
    rejected = advance(flow, asked.session, Inbound("non pas du tout", T0))
    assert ThemeRejected("q", "prix") in rejected.events


@pytest.mark.parametrize(("text", "meant"), [
    ("/aide", "help"), ("/stop", "stop"), ("/stop@relais_hdf_bot", "stop"),
    ("/AIDE@relais_hdf_bot", "help"), ("  /start@relais_hdf_bot  ", "start"),
    ("STOP", "stop"), ("Arrêt", "stop"), ("mes données", "my_data"),
    ("stop@relais_hdf_bot", None),  # the bot's name is cut off commands only
    ("/stop aux bouchons", None), ("Stop aux bouchons", None), ("", None),
])
def test_telegram_commands_are_keywords_without_the_bot_s_name(text, meant):
    from bot.engine.keywords import keyword_of

    found = keyword_of(text)
    assert (found.value if found is not None else None) == meant

"""What a message is before the engine runs, decided without a database: tables of messages,
what is known of their sender, and the route each takes."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.consultations import load_flows
from bot.engine import Inbound, Session, Status
from bot.routing import (
    AskAssociation,
    Flood,
    Message,
    ReplyToFeedback,
    Routing,
    Run,
    Situation,
    TakeAssociation,
    invite_code,
)

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ROUTING = Routing(load_flows(), "mobilite")


def message(text: str = "", channel: str = "telegram", **payload) -> Message:
    return Message(id=1, participant_id=7, channel=channel, text=text, payload=payload,
                   received_at=AT)


def in_session(status: Status, consultation: str = "mobilite", **facts) -> Situation:
    state = Session(consultation=consultation, status=status, last_at=AT - timedelta(hours=1),
                    **facts)
    return Situation(consultation=consultation, state=state)


def run(consultation: str, text: str, resume: bool, **options) -> Run:
    inbound_options = {k: options.pop(k) for k in ("media", "question") if k in options}
    return Run(consultation, Inbound(text, AT, **inbound_options), resume, **options)


NEWCOMER = Situation()
ACTIVE = in_session(Status.ACTIVE, question="territoire")
COMPLETED = in_session(Status.COMPLETED)
ASKED = Situation(asked_association=True, associations=True)

ROUTES = [
    # (case, message, what is known of the sender, route)
    ("a first message starts the default consultation",
     message("Bonjour"), NEWCOMER, run("mobilite", "Bonjour", False)),
    ("an answer goes on in the current session",
     message("80000"), ACTIVE, run("mobilite", "80000", True)),
    ("the session of a consultation no longer offered gives way to the default one",
     message("Bonjour"), in_session(Status.ACTIVE, "ancienne", question="q1"),
     run("mobilite", "Bonjour", False)),
    ("a blocked bot is a silent STOP in the current consultation",
     message("", event="blocked"), in_session(Status.ACTIVE, "jeunesse", question="age"),
     run("jeunesse", "STOP", True, silent=True)),
    ("a blocked bot with no session yet",
     message("", event="blocked"), NEWCOMER, run("mobilite", "STOP", False, silent=True)),
    ("a consultation's keyword starts it",
     message("jeunesse", "sms"), NEWCOMER, run("jeunesse", "", False)),
    ("a consultation's keyword after another one is completed",
     message("JEUNESSE"), COMPLETED, run("jeunesse", "", False)),
    ("the keyword of a completed consultation goes back to it",
     message("Mobilité"), COMPLETED, run("mobilite", "", True)),
    ("a keyword in the middle of a consultation is an answer",
     message("jeunesse"), ACTIVE, run("mobilite", "jeunesse", True)),
    ("a keyword while stopped waits for START",
     message("jeunesse"), in_session(Status.STOPPED), run("mobilite", "jeunesse", True)),
    ("an invite starts its consultation",
     message("/start K7M2QX", invite="K7M2QX"), Situation(invited_to="jeunesse"),
     run("jeunesse", "", False)),
    ("an invite during a consultation is an answer",
     message("K7M2QX", "sms"), replace(in_session(Status.CONSENT), invited_to="jeunesse"),
     run("mobilite", "K7M2QX", True)),
    ("an invite to a consultation no longer offered is a first message",
     message("K7M2QX", "sms"), Situation(invited_to="ancienne"),
     run("mobilite", "K7M2QX", False)),
    ("a bare /start without an association asks which one sent the person",
     message("/start", start=True), Situation(associations=True), AskAssociation()),
    ("a bare /start when no association exists starts the consultation",
     message("/start", start=True), Situation(), run("mobilite", "/start", False)),
    ("a bare /start from someone an association brought",
     message("/start", start=True), Situation(association_id=3, associations=True),
     run("mobilite", "/start", False)),
    ("the answer to that question, then a new session of the default consultation",
     message("2"), ASKED, TakeAssociation("2", run("mobilite", "", False))),
    ("that answer, even from someone whose session of it ended",
     message("Les Amis du Rail"),
     Situation(consultation="mobilite", state=COMPLETED.state, asked_association=True),
     TakeAssociation("Les Amis du Rail", run("mobilite", "", False))),
    ("the web chat names its consultation",
     message("Bonjour", "web", consultation="jeunesse"), NEWCOMER,
     run("jeunesse", "Bonjour", False)),
    ("the web chat's consultation, already under way",
     message("oui", "web", consultation="mobilite"), in_session(Status.CONSENT),
     run("mobilite", "oui", True)),
    ("the web chat naming an unknown consultation",
     message("Bonjour", "web", consultation="ancienne"), NEWCOMER,
     run("mobilite", "Bonjour", False)),
    ("words after a completed consultation may reply to its feedback",
     message("  Merci, et les bus du soir ?  "), COMPLETED,
     ReplyToFeedback("mobilite", "Merci, et les bus du soir ?",
                     run("mobilite", "  Merci, et les bus du soir ?  ", True))),
    ("a keyword after a completed consultation keeps its meaning",
     message("MES DONNEES"), COMPLETED, run("mobilite", "MES DONNEES", True)),
    ("a button after a completed consultation",
     message("oui", question="retour"), COMPLETED,
     run("mobilite", "oui", True, question="retour")),
    ("the answer to the erasure question",
     message("oui"), in_session(Status.COMPLETED, confirming_erasure=True),
     run("mobilite", "oui", True)),
    ("a photo without words after a completed consultation",
     message("", media="photo"), COMPLETED, run("mobilite", "", True, media=True)),
    ("a photo with a caption is its words",
     message("le quai", media="photo"), ACTIVE, run("mobilite", "le quai", True)),
    ("a provider's own keyword stands for the words",
     message("Arrêt", "sms", keyword="STOP", answered_by_provider=True), ACTIVE,
     run("mobilite", "STOP", True, silent=True)),
    ("an answer to a confirm_theme question has its themes ranked first",
     message("Les trains sont en retard"), in_session(Status.ACTIVE, question="probleme"),
     run("mobilite", "Les trains sont en retard", True, guess_theme=True)),
    ("not by SMS, where asking costs a message",
     message("Les trains sont en retard", "sms"),
     in_session(Status.ACTIVE, question="probleme"),
     run("mobilite", "Les trains sont en retard", True)),
    ("not for an empty answer",
     message(" "), in_session(Status.ACTIVE, question="probleme"),
     run("mobilite", " ", True)),
    ("not while the theme is being confirmed",
     message("non"), in_session(Status.ACTIVE, question="probleme", confirming_theme="prix"),
     run("mobilite", "non", True)),
    ("not while the closest themes are offered",
     message("2"), in_session(Status.ACTIVE, question="probleme",
                              theme_options=("prix", "velo")),
     run("mobilite", "2", True)),
    ("not for another question",
     message("Le prix"), in_session(Status.ACTIVE, question="priorite"),
     run("mobilite", "Le prix", True)),
    ("not in a consultation that is starting afresh",
     message("Les trains"), in_session(Status.ACTIVE, "ancienne", question="probleme"),
     run("mobilite", "Les trains", False)),
]


@pytest.mark.parametrize(("sent", "situation", "expected"),
                         [case[1:] for case in ROUTES], ids=[case[0] for case in ROUTES])
def test_each_message_takes_its_route(sent, situation, expected):
    assert ROUTING.route(sent, situation) == expected


INVITE_CODES = [
    # (case, message, code)
    ("a deep link's parameter", message("/start K7M2QX", invite="K7M2QX"), "K7M2QX"),
    ("an SMS's first word", message("  k7m2qx bonjour", "sms"), "k7m2qx"),
    ("a web chat's or Telegram's first word", message("K7M2QX"), "K7M2QX"),
    ("a word too short", message("oui", "sms"), None),
    ("a word too long", message("ABCDEFGHJKMNPQRST", "sms"), None),
    ("a word that is not letters and digits", message("80-000", "sms"), None),
    ("an empty SMS", message("", "sms"), None),
    ("a deep link's malformed parameter", message("/start x", invite="x"), None),
    ("a blocked bot carries none", message("", event="blocked", invite="K7M2QX"), None),
]


@pytest.mark.parametrize(("sent", "code"), [case[1:] for case in INVITE_CODES],
                         ids=[case[0] for case in INVITE_CODES])
def test_the_invite_code_a_message_carries(sent, code):
    assert invite_code(sent) == code


FLOODS = [
    # (case, messages already handled in the last minute, last reply, held back?)
    ("a quiet person", 3, AT - timedelta(seconds=1), False),
    ("the 20th message of the minute", 19, AT - timedelta(seconds=1), False),
    ("the 21st, a second after a reply", 20, AT - timedelta(seconds=1), True),
    ("the 21st, just under 5 s after a reply", 20, AT - timedelta(seconds=4.999), True),
    ("the 21st, 5 s after a reply", 20, AT - timedelta(seconds=5), False),
    ("a flood that was never answered", 40, None, False),
]


@pytest.mark.parametrize(("recent", "last_reply", "held"), [case[1:] for case in FLOODS],
                         ids=[case[0] for case in FLOODS])
def test_a_flood_is_answered_once_in_a_while(recent, last_reply, held):
    assert Flood(recent, last_reply).holds_back(AT) is held


def test_a_flood_is_answered_once_every_5_seconds():
    flood = Flood(0, None)
    answered = [second for second in range(60) for _ in range(2)  # 120 messages in a minute
                if not flood.holds_back(AT + timedelta(seconds=second))]
    # The first 20 messages (10 seconds) are all answered, the last at second 9; then one
    # message every 5 seconds.
    assert answered == [*(s for s in range(10) for _ in range(2)), *range(14, 60, 5)]

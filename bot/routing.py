"""What an inbound message is before the engine runs: pure rules over plain data."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.engine import Flow, Inbound, Session, Status
from bot.engine.keywords import keyword_of
from bot.engine.text import fold_words

FLOOD_MESSAGES = 20  # more than this in FLOOD_WINDOW is a flood…
FLOOD_WINDOW = timedelta(minutes=1)
FLOOD_REPLY_GAP = timedelta(seconds=5)  # …answered at most once in this long
# In these a conversation is under way: invites, consultation keywords and referral wait.
BUSY = frozenset({Status.CONSENT, Status.ACTIVE, Status.STOPPED})
_CODE = re.compile(r"[A-Za-z0-9]{4,16}")


@dataclass(frozen=True)
class Message:
    """An inbound message as the rules read it."""

    id: int
    participant_id: int
    channel: str
    text: str
    payload: dict
    received_at: datetime


@dataclass(frozen=True)
class Situation:
    """What is known of the sender when a message comes."""

    consultation: str | None = None  # of their latest session
    state: Session | None = None  # the engine's state in that session
    association_id: int | None = None  # the association that brought them
    asked_association: bool = False  # they were asked which association sent them
    invited_to: str | None = None  # the consultation of the live invite the message carries
    associations: bool = False  # some association could have sent them


@dataclass(frozen=True)
class Run:
    """Run the engine on `inbound`, in the current session (`resume`) or a new one."""

    consultation: str
    inbound: Inbound
    resume: bool
    silent: bool = False  # apply the turn, send nothing (e.g. the person blocked the bot)
    guess_theme: bool = False  # an answer to a confirm_theme question: rank its themes first


@dataclass(frozen=True)
class AskAssociation:
    """Ask a newcomer which association sent them; the engine does not run."""


@dataclass(frozen=True)
class TakeAssociation:
    """Read the answer to that question, then `then`."""

    answer: str
    then: Run


@dataclass(frozen=True)
class ReplyToFeedback:
    """Text after a completed consultation: a reply to its feedback, if some reached the
    person before the message came; otherwise `otherwise`."""

    consultation: str
    text: str
    otherwise: Run


Route = Run | AskAssociation | TakeAssociation | ReplyToFeedback


def blocked(message: Message) -> bool:
    """Tells whether the message says the person blocked the bot."""
    return message.payload.get("event") == "blocked"


def invite_code(message: Message) -> str | None:
    """Returns the invite code a message may carry: a /start parameter, a link's `invite`
    or the message's first word, on every channel (a flyer's code is typed where one
    chats); an unknown code is just a first message, and nothing tells the sender so."""
    if blocked(message):
        return None
    code = message.payload.get("invite")
    if code is None:
        first = message.text.strip().split(maxsplit=1)
        code = first[0] if first else None
    return code if code and _CODE.fullmatch(code) else None


class Routing:
    """Decides, for each message, what runs: the consultations known and their keywords."""

    def __init__(self, flows: dict[str, Flow], default_consultation: str) -> None:
        self.flows = flows
        self.default = default_consultation
        self.keywords = {fold_words(f.keyword): f.id for f in flows.values() if f.keyword}

    def route(self, message: Message, situation: Situation) -> Route:
        """Returns what the message asks for, given what is known of its sender."""
        payload = message.payload
        text = payload.get("keyword") or message.text
        at = message.received_at
        current = situation.consultation
        if blocked(message):
            flow = self.flow_of(current)
            return Run(flow, Inbound("STOP", at), resume=current == flow, silent=True)
        state = situation.state
        if state is None or state.status not in BUSY:
            asked = self.asked_for(situation.invited_to, text)
            if asked is not None:
                return Run(asked, Inbound("", at), resume=current == asked)
            if situation.asked_association:
                return TakeAssociation(text, Run(self.default, Inbound("", at), resume=False))
            if payload.get("start") and situation.association_id is None \
                    and situation.associations:
                return AskAssociation()
            wanted = payload.get("consultation")
            if wanted in self.flows and current != wanted:
                return Run(wanted, Inbound(text, at), resume=False)
        run = self.answer(message, text, situation)
        if current is not None and feedback_reply_possible(message, text, state):
            return ReplyToFeedback(current, text.strip(), run)
        return run

    def answer(self, message: Message, text: str, situation: Situation) -> Run:
        """Returns the turn of an ordinary message in the current consultation."""
        payload = message.payload
        consultation = self.flow_of(situation.consultation)
        resume = situation.consultation == consultation
        inbound = Inbound(text, message.received_at,
                          media=bool(payload.get("media")) and not text.strip(),
                          question=payload.get("question"))
        state = situation.state if resume else None
        return Run(consultation, inbound, resume,
                   silent=bool(payload.get("answered_by_provider")),
                   guess_theme=self.theme_wanted(consultation, state, message.channel, text))

    def flow_of(self, consultation: str | None) -> str:
        """Returns the consultation a session's messages go to: its own, if still known."""
        return consultation if consultation in self.flows else self.default

    def asked_for(self, invited_to: str | None, text: str) -> str | None:
        """Returns the consultation an invite or an SMS keyword asks for."""
        if invited_to in self.flows:
            return invited_to
        return self.keywords.get(fold_words(text))

    def theme_wanted(self, consultation: str, state: Session | None, channel: str,
                     text: str) -> bool:
        """Tells whether a message answers a confirm_theme question, so that its themes are
        ranked before the engine asks "did I understand you?"; never on SMS, where the
        question costs a message."""
        if state is None or state.status is not Status.ACTIVE or state.confirming_theme \
                or state.theme_options or not state.question or channel == "sms":
            return False
        return self.flows[consultation].question(state.question).confirm_theme \
            and bool(text.strip())


def feedback_reply_possible(message: Message, text: str, state: Session | None) -> bool:
    """Tells whether what someone writes after completing a consultation may be their reply
    to its feedback: words, not a keyword (keywords keep their meaning) nor a button."""
    return state is not None and state.status is Status.COMPLETED \
        and not state.confirming_erasure and bool(text.strip()) and keyword_of(text) is None \
        and message.payload.get("question") is None


class Flood:
    """Counts one participant's recent messages: past a flood, replies come once in a while."""

    def __init__(self, recent: int, last_reply: datetime | None) -> None:
        self.recent = recent
        self.last_reply = last_reply

    def holds_back(self, now: datetime) -> bool:
        """Counts one more message; tells whether its replies must be held back."""
        self.recent += 1
        if self.recent > FLOOD_MESSAGES and self.last_reply is not None \
                and now - self.last_reply < FLOOD_REPLY_GAP:
            return True
        self.last_reply = now
        return False

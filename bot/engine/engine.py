"""The conversation engine: one inbound message in, a new session and events out."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from . import wording
from .answers import NO, YES, Invalid, bounds, match_choice, read_answer, yes_or_no
from .events import (
    AnswerRecorded,
    AnswerRejected,
    ConsentGiven,
    ConsentRefused,
    DataRequested,
    ErasureCancelled,
    ErasureConfirmed,
    Event,
    FlowCompleted,
    FlowFailed,
    FlowRestarted,
    FlowStarted,
    HelpShown,
    MessageIgnored,
    ParticipantRestarted,
    ParticipantStopped,
    QuestionSkipped,
    ReplyCreated,
    SessionResumed,
    ThemeChosen,
    ThemeConfirmed,
    ThemeRejected,
)
from .flow import END, Choice, Flow, Question, QuestionType
from .keywords import Keyword, keyword_of
from .session import OPEN, Session, Status
from .text import fold_words

MAX_REASKS = 2  # a wrong answer is asked again at most twice
MAX_MOVES_PER_TURN = 100  # guards against a flow whose jumps never reach a question
MAX_TURNS = 300  # guards against a flow whose jumps loop through questions forever

YES_NO_CHOICES = (("oui", "Oui"), ("non", "Non"))
CONSENT_STEP = "_consentement"  # the step id buttons of the consent question carry
THEME_STEP = "_theme"  # the step id of "did I understand you?"
THEME_CHOICE_STEP = "_theme_choix"  # the step id of "what were you talking about?" after a no
THEME_OPTIONS = 3  # the closest themes offered after a no
ANSWERED = True  # what a session keeps of a free-text answer: that there is one, not its words


@dataclass(frozen=True)
class Inbound:
    """What the participant sent, as the engine sees it."""

    text: str
    at: datetime
    media: bool = False
    question: str | None = None  # the step a button answers, when the channel knows it
    theme: str | None = None  # the theme a model sees in this text, for confirm_theme questions
    alternatives: tuple[str, ...] = ()  # the next likeliest themes, closest first
    relayed_by: str | None = None  # the association whose invite the message carries


@dataclass(frozen=True)
class Turn:
    """The outcome of one inbound message: the new session and what happened."""

    session: Session
    events: tuple[Event, ...]

    @property
    def replies(self) -> tuple[ReplyCreated, ...]:
        """Returns the messages to send back, in order."""
        return tuple(e for e in self.events if isinstance(e, ReplyCreated))


def advance(flow: Flow, session: Session | None, inbound: Inbound) -> Turn:
    """Runs one turn of `flow` for `session` (None for a new participant)."""
    return _Runner(flow, inbound).run(session)


def prompt(flow: Flow, question: Question) -> ReplyCreated:
    """Returns the message that asks `question`, with its choices."""
    lines = [question.text]
    choices: tuple[tuple[str, str], ...] = ()
    if question.type in (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE):
        choices = tuple((str(i), c.label) for i, c in enumerate(question.choices, 1))
        lines += [f"{number}. {label}" for number, label in choices]
    elif question.type is QuestionType.YES_NO:
        choices = YES_NO_CHOICES
    elif question.type is QuestionType.SCALE:
        low, high = bounds(question)
        choices = tuple((str(n), str(n)) for n in range(low or 1, (high or 5) + 1))
    if not question.required:
        lines.append(wording.SKIP_HINT)
    return ReplyCreated("\n".join(lines), choices, question.id)


def help_message(flow: Flow) -> str:
    """Returns what AIDE answers: the consultation's help, with where to read about one's
    rights."""
    text = flow.help or wording.HELP
    if flow.privacy_url and flow.privacy_url not in text:
        text += "\n" + wording.PRIVACY.format(url=flow.privacy_url)
    return text


def hint(question: Question) -> str:
    """Returns the short hint shown after an answer that could not be read."""
    if question.hint:
        return question.hint
    low, high = bounds(question)
    text = wording.HINTS[question.type.value].format(minimum=low, maximum=high)
    if question.type is QuestionType.MULTIPLE_CHOICE and question.max_choices:
        text += " " + wording.MAX_CHOICES.format(maximum=question.max_choices)
    return text


class _Runner:
    """Accumulates the events of one turn; not reused across turns."""

    def __init__(self, flow: Flow, inbound: Inbound) -> None:
        self.flow = flow
        self.inbound = inbound
        self.events: list[Event] = []

    def emit(self, *events: Event) -> None:
        self.events.extend(events)

    def say(self, text: str) -> None:
        self.events.append(ReplyCreated(text))

    def done(self, session: Session) -> Turn:
        return Turn(session.evolve(last_at=self.inbound.at), tuple(self.events))

    def run(self, session: Session | None) -> Turn:
        keyword = keyword_of(self.inbound.text)
        if session is None or session.status in (Status.REFUSED, Status.ERASED, Status.FAILED):
            if keyword is Keyword.STOP:
                return self.stop(self.new_session(), from_status=None)
            if keyword is Keyword.HELP:
                self.emit(HelpShown())
                self.say(self.help_text())
            elif session is not None and session.status is Status.REFUSED \
                    and keyword not in (Keyword.START, Keyword.RESTART):
                return self.after_refusal(session)
            return self.start()
        if session.status is Status.STOPPED:
            if keyword is Keyword.START:
                return self.come_back(session)
            self.emit(MessageIgnored("participant stopped"))
            return self.done(session)
        session = session.evolve(turns=session.turns + 1)
        if session.turns > MAX_TURNS:
            return self.fail(session, f"more than {MAX_TURNS} turns")
        if keyword is Keyword.STOP:
            return self.stop(session, from_status=session.status)
        if session.confirming_erasure:
            return self.confirm_erasure(session)
        if session.confirming_theme and keyword is None:
            return self.confirm_theme(session)
        if session.theme_options and keyword is None:
            return self.choose_theme(session)
        if keyword is Keyword.START and session.status in OPEN:
            return self.reask(session, lead=self.resume_line(session))
        if keyword is not None and keyword is not Keyword.START:
            handled = self.keyword(session, keyword)
            if handled is not None:
                return handled
        if session.status is Status.COMPLETED:
            self.say(wording.ALREADY_DONE)
            return self.done(session)
        if self.expired(session):
            self.emit(SessionResumed())
            return self.reask(session, lead=self.resume_line(session))
        if self.inbound.media:
            self.say(wording.MEDIA)
            return self.done(session)
        if self.inbound.question is not None and self.inbound.question != self.step(session):
            self.emit(MessageIgnored("button of an earlier question"))
            return self.reask(session, lead=wording.STALE_CHOICE)
        if session.status is Status.CONSENT:
            return self.consent(session)
        return self.answer(session)

    # -- starting, stopping, coming back

    def help_text(self) -> str:
        """Returns the consultation's help, with where to read about one's rights."""
        return help_message(self.flow)

    @staticmethod
    def step(session: Session) -> str | None:
        """Returns the id of the step waiting for an answer."""
        if session.status is Status.CONSENT:
            return CONSENT_STEP
        if session.confirming_theme:
            return THEME_STEP
        return THEME_CHOICE_STEP if session.theme_options else session.question

    def new_session(self) -> Session:
        return Session(consultation=self.flow.id, status=Status.CONSENT, last_at=self.inbound.at)

    def start(self) -> Turn:
        self.emit(FlowStarted(self.flow.id))
        session = self.new_session()
        relayed_by = self.inbound.relayed_by
        self.say(wording.RELAYED_BY.format(association=relayed_by) + "\n" + self.flow.welcome
                 if relayed_by else self.flow.welcome)
        self.emit(ReplyCreated(self.flow.consent, YES_NO_CHOICES, CONSENT_STEP))
        return self.done(session)

    def stop(self, session: Session, from_status: Status | None) -> Turn:
        self.emit(ParticipantStopped())
        self.say(wording.STOPPED)
        return self.done(session.evolve(
            status=Status.STOPPED, stopped_from=from_status, confirming_erasure=False))

    def come_back(self, session: Session) -> Turn:
        self.emit(ParticipantRestarted())
        previous = session.stopped_from
        session = session.evolve(status=previous or Status.CONSENT, stopped_from=None, attempts=0)
        if previous is None:
            return self.start()
        self.say(wording.RESTARTED_AFTER_STOP)
        if previous in OPEN:
            return self.reask(session)
        return self.done(session)

    def fail(self, session: Session, reason: str) -> Turn:
        self.emit(FlowFailed(reason))
        self.say(wording.FAILED)
        return self.done(session.evolve(status=Status.FAILED, question=None))

    # -- keywords

    def keyword(self, session: Session, keyword: Keyword) -> Turn | None:
        """Handles a global keyword; None means the message is an ordinary answer."""
        if keyword is Keyword.HELP:
            self.emit(HelpShown())
            self.say(self.help_text())
            return self.reask(session) if session.status in OPEN else self.done(session)
        if keyword is Keyword.MY_DATA:
            self.emit(DataRequested())
            return self.reask(session) if session.status in OPEN else self.done(session)
        if keyword is Keyword.ERASE:
            self.say(wording.ERASE_CONFIRM)
            return self.done(session.evolve(confirming_erasure=True))
        if keyword is Keyword.RESTART:
            self.emit(FlowRestarted())
            session = session.evolve(answers={}, attempts=0, question=None,
                                     confirming_theme=None, theme_options=())
            if not session.consented:
                return self.start()
            self.say(wording.RESTART)
            return self.move(session.evolve(status=Status.ACTIVE), self.flow.questions[0].id)
        if keyword is Keyword.SKIP and session.status is Status.ACTIVE and session.question:
            question = self.flow.question(session.question)
            if question.required:
                return self.answer(session, skip_refused=True)
            self.emit(QuestionSkipped(question.id))
            return self.move(session, self.next_of(question, None))
        return None

    def confirm_erasure(self, session: Session) -> Turn:
        session = session.evolve(confirming_erasure=False)
        if fold_words(self.inbound.text) in ("oui", "o", "yes", "ok", "confirmer", "supprimer"):
            self.emit(ErasureConfirmed())
            self.say(wording.ERASED)
            return self.done(session.evolve(status=Status.ERASED, answers={}, question=None))
        self.emit(ErasureCancelled())
        self.say(wording.ERASE_CANCELLED)
        return self.reask(session) if session.status in OPEN else self.done(session)

    # -- the questions

    def expired(self, session: Session) -> bool:
        idle = self.inbound.at - session.last_at
        return session.status in OPEN and idle > timedelta(hours=self.flow.expiry_hours)

    def resume_line(self, session: Session) -> str:
        if session.status is Status.CONSENT or not session.question:
            return wording.RESUMED.format(position=0, total=len(self.flow.questions))
        return wording.RESUMED.format(
            position=self.flow.position(session.question), total=len(self.flow.questions))

    def reask(self, session: Session, lead: str | None = None) -> Turn:
        """Asks the current question again, optionally after a line of explanation."""
        if session.status is Status.CONSENT:
            reply = ReplyCreated(self.flow.consent, YES_NO_CHOICES, CONSENT_STEP)
        elif session.confirming_theme:
            label = self.theme_label(session.confirming_theme) or session.confirming_theme
            reply = ReplyCreated(wording.CONFIRM_THEME.format(theme=label), YES_NO_CHOICES,
                              THEME_STEP)
        elif session.theme_options:
            reply = self.theme_choice(session.theme_options)
        else:
            reply = prompt(self.flow, self.flow.question(session.question))
        if lead:
            reply = ReplyCreated(f"{lead}\n{reply.text}", reply.choices, reply.question)
        self.emit(reply)
        return self.done(session)

    def consent(self, session: Session) -> Turn:
        words = fold_words(self.inbound.text)
        if words in YES:
            self.emit(ConsentGiven())
            session = session.evolve(status=Status.ACTIVE, consented=True, attempts=0)
            return self.move(session, self.flow.questions[0].id)
        if words in NO or session.attempts >= MAX_REASKS:
            self.emit(ConsentRefused())
            self.say(self.flow.consent_refused)
            return self.done(session.evolve(status=Status.REFUSED, answers={}))
        session = session.evolve(attempts=session.attempts + 1)
        return self.reask(session, lead=wording.CONSENT_HINT)

    def after_refusal(self, session: Session) -> Turn:
        """After a no to the notice: a yes now is consent; anything else gets one short line
        on how to take part, not the whole notice again."""
        if yes_or_no(self.inbound.text) is True:
            self.emit(ConsentGiven())
            session = session.evolve(status=Status.ACTIVE, consented=True, attempts=0,
                                     turns=session.turns + 1)
            return self.move(session, self.flow.questions[0].id)
        self.say(wording.AFTER_REFUSAL)
        return self.done(session)

    def answer(self, session: Session, skip_refused: bool = False) -> Turn:
        """Reads the answer to the current question; `skip_refused` when PASSER is not allowed."""
        question = self.flow.question(session.question)
        raw = self.inbound.text
        try:
            if skip_refused:
                raise Invalid(wording.REQUIRED)
            value = read_answer(question, raw)
        except Invalid as invalid:
            if session.attempts < MAX_REASKS:
                attempt = session.attempts + 1
                self.emit(AnswerRejected(question.id, raw, attempt))
                reason = str(invalid) or wording.NOT_UNDERSTOOD
                lead = f"{reason} {hint(question)}" if invalid.hint else reason
                return self.reask(session.evolve(attempts=attempt), lead=lead)
            if question.required:
                self.emit(AnswerRecorded(question.id, raw, None, valid=False))
            else:
                self.emit(QuestionSkipped(question.id))
            return self.move(session, self.next_of(question, None))
        self.emit(AnswerRecorded(question.id, raw, value))
        # The words of a free-text answer are stored once, with the answer; the session only
        # needs to know it was given.
        kept = ANSWERED if question.type is QuestionType.TEXT else value
        answers = {**session.answers, question.id: kept}
        theme = self.inbound.theme
        label = self.theme_label(theme)
        if question.confirm_theme and label is not None:
            # "Did I understand you?": the person's yes teaches the model the most reliably.
            self.emit(ReplyCreated(wording.CONFIRM_THEME.format(theme=label), YES_NO_CHOICES,
                                THEME_STEP))
            options = tuple(t for t in dict.fromkeys(self.inbound.alternatives)
                            if t != theme and self.theme_label(t) is not None)[:THEME_OPTIONS]
            return self.done(session.evolve(answers=answers, attempts=0,
                                            confirming_theme=theme, theme_options=options))
        return self.move(session.evolve(answers=answers), self.next_of(question, raw))

    def theme_label(self, theme: str | None) -> str | None:
        """Returns the French label of a theme of this consultation, or None."""
        return next((t.label for t in self.flow.themes if t.id == theme), None)

    def theme_choice(self, options: tuple[str, ...]) -> ReplyCreated:
        """Returns "what were you talking about?" with the closest themes, then "something
        else", as numbered choices."""
        labels = [self.theme_label(t) or t for t in options] + [wording.OTHER_THEME]
        choices = tuple((str(i), label) for i, label in enumerate(labels, 1))
        lines = [wording.CHOOSE_THEME] + [f"{number}. {label}" for number, label in choices]
        return ReplyCreated("\n".join(lines), choices, THEME_CHOICE_STEP)

    def confirm_theme(self, session: Session) -> Turn:
        """Reads the yes or no to "did I understand you?": a yes confirms the theme, a no
        rejects it and offers the closest themes; anything else just goes on."""
        question = self.flow.question(session.question)
        theme = session.confirming_theme
        words = fold_words(self.inbound.text)
        first = words.split(" ", 1)[0] if words else ""
        options = session.theme_options
        session = session.evolve(confirming_theme=None, theme_options=())
        if words in YES:
            self.emit(ThemeConfirmed(question.id, theme))
        elif words in NO or first in NO:
            self.emit(ThemeRejected(question.id, theme))
            if options:
                self.emit(self.theme_choice(options))
                return self.done(session.evolve(theme_options=options))
            self.say(wording.THEME_NOTED)
        return self.move(session, self.next_of(question, None))

    def choose_theme(self, session: Session) -> Turn:
        """Reads which of the closest themes the answer was about, then goes on."""
        question = self.flow.question(session.question)
        options = session.theme_options
        session = session.evolve(theme_options=())
        choices = [Choice(t, self.theme_label(t) or t) for t in options]
        choices.append(Choice("", wording.OTHER_THEME))
        picked = match_choice(tuple(choices), self.inbound.text)
        if picked is not None and picked.value:
            self.emit(ThemeChosen(question.id, picked.value))
        else:
            self.say(wording.THEME_NOTED)
        return self.move(session, self.next_of(question, None))

    def next_of(self, question: Question, raw: str | None) -> str:
        """Returns where to go after `question`: a choice's jump, the question's, or the next."""
        if raw is not None and question.type is QuestionType.SINGLE_CHOICE:
            choice = match_choice(question.choices, raw)
            if choice is not None and choice.next:
                return choice.next
        return question.next or self.flow.following(question.id)

    def move(self, session: Session, target: str) -> Turn:
        """Asks the first question from `target` on whose condition holds, or closes."""
        session = session.evolve(attempts=0)
        for _ in range(MAX_MOVES_PER_TURN):
            if target == END:
                self.emit(FlowCompleted())
                self.say(self.flow.closing_for(session.answers))
                return self.done(session.evolve(status=Status.COMPLETED, question=None))
            question = self.flow.question(target)
            if question.when is None or question.when.holds(session.answers):
                self.emit(prompt(self.flow, question))
                return self.done(session.evolve(status=Status.ACTIVE, question=question.id))
            target = self.flow.following(question.id)
        return self.fail(session, f"more than {MAX_MOVES_PER_TURN} jumps in one turn")

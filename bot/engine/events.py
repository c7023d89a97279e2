"""Past-tense facts that one turn of the engine produced, for the caller to apply."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    """Base of every event."""


@dataclass(frozen=True)
class ReplyCreated(Event):
    """A reply was created for the participant (the outbox sends it); `choices` lets rich
    channels show buttons."""

    text: str
    choices: tuple[tuple[str, str], ...] = ()
    question: str | None = None


@dataclass(frozen=True)
class FlowStarted(Event):
    """A new conversation began with the information notice."""

    consultation: str


@dataclass(frozen=True)
class ConsentGiven(Event):
    """The participant accepted the notice."""


@dataclass(frozen=True)
class ConsentRefused(Event):
    """The participant declined; nothing of theirs is kept."""


@dataclass(frozen=True)
class AnswerRecorded(Event):
    """An answer to a question, normalised; `valid` is false after too many bad tries."""

    question: str
    raw: str
    value: object
    valid: bool = True


@dataclass(frozen=True)
class AnswerRejected(Event):
    """An answer that could not be read; the question is asked again."""

    question: str
    raw: str
    attempt: int


@dataclass(frozen=True)
class QuestionSkipped(Event):
    """An optional question left without answer."""

    question: str


@dataclass(frozen=True)
class FlowCompleted(Event):
    """The last question was answered."""


@dataclass(frozen=True)
class FlowRestarted(Event):
    """The participant asked to start again; earlier answers of this session are void."""


@dataclass(frozen=True)
class FlowFailed(Event):
    """The flow could not go on (a step limit was hit); the reason is for operators."""

    reason: str


@dataclass(frozen=True)
class SessionResumed(Event):
    """The participant came back after the consultation's idle expiry."""


@dataclass(frozen=True)
class ParticipantStopped(Event):
    """The participant opted out of all messages."""


@dataclass(frozen=True)
class ParticipantRestarted(Event):
    """A participant who had stopped sent START."""


@dataclass(frozen=True)
class HelpShown(Event):
    """The participant asked for help."""


@dataclass(frozen=True)
class DataRequested(Event):
    """The participant asked what is held about them; the caller adds that reply here."""


@dataclass(frozen=True)
class ErasureConfirmed(Event):
    """The participant confirmed the erasure of everything held about them."""


@dataclass(frozen=True)
class ErasureCancelled(Event):
    """The participant did not confirm the erasure."""


@dataclass(frozen=True)
class MessageIgnored(Event):
    """An inbound message that gets no reply, with why."""

    reason: str


@dataclass(frozen=True)
class ThemeConfirmed(Event):
    """The participant confirmed the theme a model saw in their answer."""

    question: str
    theme: str


@dataclass(frozen=True)
class ThemeRejected(Event):
    """The participant said the theme a model saw in their answer is not the right one."""

    question: str
    theme: str


@dataclass(frozen=True)
class ThemeChosen(Event):
    """After saying no, the participant picked the theme of their answer among the closest."""

    question: str
    theme: str

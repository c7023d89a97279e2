"""The state of one participant in one consultation, carried between turns."""

from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum


class Status(StrEnum):
    """Where a conversation stands."""

    CONSENT = "consent"  # notice sent, waiting for yes or no
    ACTIVE = "active"  # waiting for the answer to `question`
    COMPLETED = "completed"
    REFUSED = "refused"
    STOPPED = "stopped"  # the participant opted out; nothing is sent until START
    ERASED = "erased"
    FAILED = "failed"


OPEN = frozenset({Status.CONSENT, Status.ACTIVE})


@dataclass(frozen=True)
class Session:
    """An immutable snapshot of a conversation; `advance` returns a new one."""

    consultation: str
    status: Status
    last_at: datetime
    question: str | None = None
    answers: dict[str, object] = field(default_factory=dict)
    attempts: int = 0
    confirming_erasure: bool = False
    confirming_theme: str | None = None  # the theme asked about, for "did I understand you?"
    theme_options: tuple[str, ...] = ()  # the closest themes: offered after a "no"
    consented: bool = False
    turns: int = 0
    stopped_from: Status | None = None

    def evolve(self, **changes: object) -> "Session":
        """Returns a copy with some fields changed."""
        # A copy of the fields, not dataclasses.replace: that one calls __init__, which sets
        # each field through object.__setattr__, and an engine turn evolves a session 4 or 5
        # times.
        unknown = changes.keys() - _FIELDS
        if unknown:
            raise TypeError(f"unknown session fields: {sorted(unknown)}")
        copy = object.__new__(type(self))
        vars(copy).update(vars(self), **changes)
        return copy

    def to_dict(self) -> dict[str, object]:
        """Returns a JSON-ready form."""
        # By hand: dataclasses.asdict deep-copies every answer, and costs more than a turn.
        # Nothing is shared that anyone mutates: sessions and their answers are never changed.
        data = dict(self.__dict__)
        data["answers"] = dict(self.answers)
        data["last_at"] = self.last_at.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> "Session":
        """Rebuilds a session from `to_dict` output."""
        values = dict(data)
        values["status"] = Status(values["status"])
        values["last_at"] = datetime.fromisoformat(str(values["last_at"]))
        values["theme_options"] = tuple(values.get("theme_options") or ())
        if values.get("stopped_from"):
            values["stopped_from"] = Status(values["stopped_from"])
        return cls(**values)


_FIELDS = frozenset(f.name for f in fields(Session))

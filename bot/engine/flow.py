"""The shape of a consultation once loaded: questions, choices, conditions and themes."""

from dataclasses import dataclass, field, fields
from enum import StrEnum

END = "fin"


class UnknownQuestion(KeyError):
    """No question of the consultation has this id."""


class QuestionType(StrEnum):
    """The kinds of answer a question expects."""

    TEXT = "text"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    SCALE = "scale"
    YES_NO = "yes_no"
    POSTCODE = "postcode"
    NUMBER = "number"


class Purpose(StrEnum):
    """What an answer says about the participant, beyond the answer itself."""

    TERRITORY = "territory"
    AGE_BAND = "age_band"
    FEEDBACK_OPT_IN = "feedback_opt_in"


@dataclass(frozen=True)
class Choice:
    """One possible answer to a choice question."""

    value: str
    label: str
    aliases: tuple[str, ...] = ()
    next: str | None = None


@dataclass(frozen=True)
class Condition:
    """Shows a question only when an earlier answer matches."""

    question: str
    equals: object = None
    any_of: tuple[object, ...] = ()
    none_of: tuple[object, ...] = ()

    def holds(self, answers: dict[str, object]) -> bool:
        """Tells whether the recorded answers satisfy the condition."""
        if self.question not in answers:
            return False
        given = answers[self.question]
        values = set(given) if isinstance(given, list | tuple) else {given}
        if self.any_of:
            return bool(values & set(self.any_of))
        if self.none_of:
            return not values & set(self.none_of)
        return self.equals in values


@dataclass(frozen=True)
class Question:
    """One step of a consultation that waits for an answer."""

    id: str
    type: QuestionType
    text: str
    required: bool = True
    hint: str | None = None
    choices: tuple[Choice, ...] = ()
    when: Condition | None = None
    next: str | None = None
    purpose: Purpose | None = None
    classify: bool = False
    confirm_theme: bool = False
    minimum: int | None = None
    maximum: int | None = None
    max_choices: int | None = None
    label: str | None = None  # a few words that name the question ("Code postal")

    @property
    def short_label(self) -> str:
        """Returns the few words that name the question: its label, else its text."""
        return self.label or self.text

    @property
    def closed(self) -> bool:
        """Tells whether answers are counted per choice rather than read."""
        return self.type in (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE,
                             QuestionType.YES_NO, QuestionType.SCALE)

    @property
    def choice_labels(self) -> dict[str, str]:
        """Returns what an answer may be, as stored (value as text) → its label, in order."""
        if self.type is QuestionType.YES_NO:
            return {"true": "Oui", "false": "Non"}
        if self.type is QuestionType.SCALE and self.minimum is not None \
                and self.maximum is not None:
            return {str(n): str(n) for n in range(self.minimum, self.maximum + 1)}
        return {str(c.value): c.label for c in self.choices}


@dataclass(frozen=True)
class Theme:
    """One entry of a consultation's codebook."""

    id: str
    label: str
    description: str
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Flow:
    """A whole consultation: notice, consent, questions, closing and codebook."""

    id: str
    title: str
    welcome: str
    consent: str
    consent_refused: str
    closing: str
    questions: tuple[Question, ...]
    themes: tuple[Theme, ...] = ()
    audience: str = "citoyens"
    version: int = 1
    expiry_hours: float = 48
    retention_days: int = 365
    keyword: str | None = None
    help: str | None = None
    privacy_url: str | None = None
    # Closings that depend on the answers, the first that holds wins; else `closing`.
    closings: tuple[tuple[Condition, str], ...] = ()
    _index: dict[str, int] = field(default_factory=dict, init=False, repr=False,
                                   compare=False)

    def __post_init__(self) -> None:
        self._index.update({q.id: i for i, q in enumerate(self.questions)})

    @classmethod
    def from_dict(cls, data: dict) -> "Flow":
        """Rebuilds a flow from the JSON it was stored as (`dataclasses.asdict`); keys it no
        longer knows are left aside, keys it did not know yet take their defaults."""
        def condition(raw: dict | None) -> Condition | None:
            if raw is None:
                return None
            return Condition(raw["question"], raw.get("equals"), tuple(raw.get("any_of", ())),
                             tuple(raw.get("none_of", ())))

        questions = tuple(Question(**{
            **_known(Question, q), "type": QuestionType(q["type"]),
            "purpose": Purpose(q["purpose"]) if q.get("purpose") else None,
            "choices": tuple(Choice(**{**_known(Choice, c),
                                       "aliases": tuple(c.get("aliases", ()))})
                             for c in q.get("choices") or ()),
            "when": condition(q.get("when"))}) for q in data.get("questions", ()))
        themes = tuple(Theme(**{**_known(Theme, t), "examples": tuple(t.get("examples", ()))})
                       for t in data.get("themes") or ())
        closings = tuple((condition(when), text) for when, text in data.get("closings") or ())
        return cls(**{**_known(cls, data), "questions": questions, "themes": themes,
                      "closings": closings})

    @property
    def theme_labels(self) -> dict[str, str]:
        """Returns the codebook's theme ids → labels, in order."""
        return {theme.id: theme.label for theme in self.themes}

    def age_bands(self) -> dict[str, str]:
        """Returns the age bands its age question offers (value → label), or none."""
        for question in self.questions:
            if question.purpose is Purpose.AGE_BAND:
                return question.choice_labels
        return {}

    def closing_for(self, answers: dict[str, object]) -> str:
        """Returns the first closing whose condition the answers meet, else the default."""
        for condition, text in self.closings:
            if condition.holds(answers):
                return text
        return self.closing

    def question(self, question_id: str) -> Question:
        """Returns the question with this id; raises UnknownQuestion when there is none."""
        if question_id not in self._index:
            raise UnknownQuestion(question_id)
        return self.questions[self._index[question_id]]

    def position(self, question_id: str) -> int:
        """Returns the 1-based rank of a question in the file."""
        return self._index[question_id] + 1

    def following(self, question_id: str) -> str:
        """Returns the id of the question after this one in the file, or END."""
        index = self._index[question_id] + 1
        return self.questions[index].id if index < len(self.questions) else END


def _known(kind: type, data: dict) -> dict:
    """The entries of `data` that are init fields of the dataclass `kind`."""
    names = {f.name for f in fields(kind) if f.init}
    return {key: value for key, value in data.items() if key in names}

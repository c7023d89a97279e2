"""Loads consultation files (YAML), validates them and builds engine flows."""

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot import gsm7
from bot.engine import (
    END,
    Choice,
    Condition,
    Flow,
    Purpose,
    Question,
    QuestionType,
    Theme,
    help_message,
    prompt,
)

FLOWS_DIR = Path(__file__).parent / "flows"
PRIVACY_PLACEHOLDER = "{lien_confidentialite}"
# SMS a message of each kind may cost at most. The first contact (welcome and notice, sent
# together) costs the most to people who will never answer: two SMS.
BUDGETS = {"first contact": 2, "help": 2, "refusal": 1, "closing": 2, "question": 2}
Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_]*$", max_length=40)]
Text = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChoiceSpec(_Strict):
    value: Id
    label: str = ""
    aliases: list[str] = []
    next: str | None = None


class ConditionSpec(_Strict):
    question: str
    equals: str | int | bool | None = None
    any_of: list[str | int | bool] = []
    none_of: list[str | int | bool] = []

    @model_validator(mode="after")
    def _one_test(self) -> "ConditionSpec":
        given = [self.equals is not None, bool(self.any_of), bool(self.none_of)]
        if sum(given) != 1:
            raise ValueError("une condition prend exactement un de equals, any_of, none_of")
        return self


class QuestionSpec(_Strict):
    id: Id
    type: QuestionType
    text: str = ""
    label: str | None = None  # a few words that name the question, where the text is too long
    required: bool = True
    hint: str | None = None
    choices: list[ChoiceSpec] = []
    when: ConditionSpec | None = None
    next: str | None = None
    purpose: Purpose | None = None
    classify: bool = False
    confirm_theme: bool = False
    min: int | None = None
    max: int | None = None
    max_choices: int | None = Field(default=None, ge=1)


class ThemeSpec(_Strict):
    id: Id
    label: str = ""
    description: str = ""
    examples: list[Text] = []


class ConsentSpec(_Strict):
    text: str = ""
    refused: str = ""


class ClosingSpec(_Strict):
    when: ConditionSpec
    text: Text


class ConsultationSpec(_Strict):
    id: Id
    title: Text
    audience: Literal["citoyens", "associations"] = "citoyens"
    version: int = Field(default=1, ge=1)
    expiry_hours: float = Field(default=48, gt=0)
    retention_days: int = Field(default=365, ge=1)
    keyword: Annotated[str, Field(pattern=r"^[A-Z0-9]{3,20}$")] | None = None
    welcome: str = ""
    consent: ConsentSpec
    help: str | None = None
    closing: str = ""
    closings: list[ClosingSpec] = []
    questions: list[QuestionSpec] = Field(min_length=1)
    themes: list[ThemeSpec] = []


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a warning) in a consultation file."""

    file: str
    where: str
    reason: str
    warning: bool = False

    def __str__(self) -> str:
        kind = "attention" if self.warning else "erreur"
        return f"{self.file}: {self.where}: {kind}: {self.reason}"


class InvalidConsultations(Exception):
    """Raised when consultation files have errors; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Checked:
    """The outcome of checking one file: the flow when it is valid, and the problems."""

    path: Path
    flow: Flow | None
    problems: tuple[Problem, ...]


def check_file(path: Path, privacy_url: str = "/confidentialite") -> Checked:
    """Parses and validates one consultation file."""
    name = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        return Checked(path, None, (Problem(name, "fichier", f"illisible ({error})"),))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"ligne {mark.line + 1}" if mark else "fichier"
        return Checked(path, None, (Problem(name, where, f"YAML invalide : {error}"),))
    if not isinstance(raw, dict):
        return Checked(path, None, (Problem(name, "fichier", "le fichier doit décrire une "
                                                             "consultation (clé: valeur)"),))
    try:
        spec = ConsultationSpec.model_validate(raw)
    except ValidationError as error:
        return Checked(path, None, tuple(_schema_problems(name, raw, error)))
    problems = list(_logic_problems(name, path, spec))
    if any(not p.warning for p in problems):
        return Checked(path, None, tuple(problems))
    flow = _build(spec, privacy_url)
    problems += _length_problems(name, flow)
    if any(not p.warning for p in problems):
        return Checked(path, None, tuple(problems))
    return Checked(path, flow, tuple(problems))


def check_files(paths: Iterable[Path], privacy_url: str = "/confidentialite") -> list[Checked]:
    """Checks several files, and that no two of them share an id or a keyword."""
    results = [check_file(path, privacy_url) for path in paths]
    seen: dict[str, str] = {}
    extra: list[Problem] = []
    for result in results:
        if result.flow is None:
            continue
        for key in {k.lower() for k in (result.flow.id, result.flow.keyword) if k}:
            if key in seen:
                extra.append(Problem(str(result.path), "id", f"« {key} » est déjà utilisé "
                                                             f"par {seen[key]}"))
            seen[key] = str(result.path)
    if extra:
        results.append(Checked(Path("."), None, tuple(extra)))
    return results


def default_paths(directory: Path = FLOWS_DIR) -> list[Path]:
    """Lists the consultation files of a directory."""
    return sorted(directory.glob("*.yaml"))


def load_flows(paths: Iterable[Path] | None = None,
               privacy_url: str = "/confidentialite") -> dict[str, Flow]:
    """Loads valid flows by id, or raises InvalidConsultations with every error."""
    results = check_files(default_paths() if paths is None else paths, privacy_url)
    errors = [p for r in results for p in r.problems if not p.warning]
    if errors:
        raise InvalidConsultations(errors)
    return {r.flow.id: r.flow for r in results if r.flow is not None}


def describe(flow: Flow) -> dict:
    """Returns a JSON-ready description of a flow, for storage and the admin view."""
    return {key: value for key, value in asdict(flow).items() if not key.startswith("_")}


def _schema_problems(name: str, raw: dict, error: ValidationError) -> Iterable[Problem]:
    for item in error.errors():
        location = list(item["loc"])
        where = ".".join(str(part) for part in location) or "fichier"
        if len(location) >= 2 and location[0] == "questions" and isinstance(location[1], int):
            questions = raw.get("questions") or []
            entry = questions[location[1]] if location[1] < len(questions) else {}
            qid = entry.get("id", f"n°{location[1] + 1}") if isinstance(entry, dict) else "?"
            rest = ".".join(str(part) for part in location[2:])
            where = f"question {qid}" + (f" ({rest})" if rest else "")
        yield Problem(name, where, _french(item))


def _french(item: dict) -> str:
    kind = item["type"]
    if kind == "missing":
        return "champ obligatoire manquant"
    if kind == "extra_forbidden":
        return "champ inconnu (faute de frappe ?)"
    if kind == "enum":
        return f"valeur inconnue, attendu : {item['ctx'].get('expected')}"
    if kind == "string_pattern_mismatch":
        return "identifiant invalide : lettres minuscules, chiffres et _ seulement"
    return item["msg"]


def _logic_problems(name: str, path: Path, spec: ConsultationSpec) -> Iterable[Problem]:
    if path.suffix == ".yaml" and path.stem != spec.id:
        yield Problem(name, "id", f"l'id « {spec.id} » doit être le nom du fichier "
                                  f"« {path.stem} »")
    for field_name, text in (("welcome", spec.welcome), ("consent.text", spec.consent.text),
                             ("consent.refused", spec.consent.refused),
                             ("closing", spec.closing)):
        if not text.strip():
            yield Problem(name, field_name, "texte en français manquant")
    ids = [q.id for q in spec.questions]
    position = {qid: i for i, qid in enumerate(ids)}
    for qid in {q for q in ids if ids.count(q) > 1}:
        yield Problem(name, f"question {qid}", "id en double")
    if END in position:
        yield Problem(name, f"question {END}", f"« {END} » est réservé à la fin")
    for index, q in enumerate(spec.questions):
        where = f"question {q.id}"
        if not q.text.strip():
            yield Problem(name, where, "texte en français manquant")
        yield from _choice_problems(name, where, q, position)
        for target in filter(None, [q.next, *(c.next for c in q.choices)]):
            if target != END and target not in position:
                yield Problem(name, where, f"étape suivante inconnue « {target} »")
        if q.when is not None:
            if q.when.question not in position:
                yield Problem(name, where, f"condition sur une question inconnue "
                                           f"« {q.when.question} »")
            elif position[q.when.question] >= index:
                yield Problem(name, where, f"condition sur « {q.when.question} », qui n'est "
                                           "pas posée avant")
        if q.type in (QuestionType.SCALE, QuestionType.NUMBER) and None not in (q.min, q.max) \
                and q.min > q.max:
            yield Problem(name, where, "min est plus grand que max")
        if q.classify and q.type is not QuestionType.TEXT:
            yield Problem(name, where, "seules les questions de type text sont classées")
        if q.classify and not spec.themes:
            yield Problem(name, where, "question classée mais aucun thème défini")
    for number, closing in enumerate(spec.closings, 1):
        if closing.when.question not in position:
            yield Problem(name, f"closings {number}", f"condition sur une question inconnue "
                                                      f"« {closing.when.question} »")
    if len(set(ids)) == len(ids) and END not in position:
        for qid in _unreachable(spec):
            yield Problem(name, f"question {qid}", "question inatteignable depuis le début")
    theme_ids = [t.id for t in spec.themes]
    for theme in spec.themes:
        where = f"thème {theme.id}"
        if theme_ids.count(theme.id) > 1:
            yield Problem(name, where, "id en double")
        if not theme.label.strip():
            yield Problem(name, where, "libellé manquant")
        if not theme.description.strip():
            yield Problem(name, where, "description manquante")
        if not theme.examples:
            yield Problem(name, where, "aucun exemple de réponse", warning=True)


def _choice_problems(name: str, where: str, q: QuestionSpec,
                     position: dict[str, int]) -> Iterable[Problem]:
    if not (q.label or "").strip():
        yield Problem(name, where, "pas de libellé court (label) : MES DONNEES montrera le "
                                   "texte entier de la question", warning=True)
    is_choice = q.type in (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE)
    if is_choice and len(q.choices) < 2:
        yield Problem(name, where, "une question à choix demande au moins deux choix")
    if not is_choice and q.choices:
        yield Problem(name, where, f"des choix sont donnés à une question de type {q.type}")
    values = [c.value for c in q.choices]
    for value in {v for v in values if values.count(v) > 1}:
        yield Problem(name, where, f"valeur de choix en double « {value} »")
    for number, choice in enumerate(q.choices, 1):
        if not choice.label.strip():
            yield Problem(name, where, f"choix {number} « {choice.value} » sans libellé")


def _unreachable(spec: ConsultationSpec) -> list[str]:
    ids = [q.id for q in spec.questions]
    following = {qid: (ids[i + 1] if i + 1 < len(ids) else END) for i, qid in enumerate(ids)}
    reached, todo = set(), [ids[0]]
    by_id = {q.id: q for q in spec.questions}
    while todo:
        qid = todo.pop()
        if qid in reached or qid not in by_id:
            continue
        reached.add(qid)
        q = by_id[qid]
        todo.append(q.next or following[qid])
        todo += [c.next for c in q.choices if c.next]
        if q.when is not None or not q.required:
            todo.append(following[qid])  # skipped by its condition
    return [qid for qid in ids if qid not in reached]


def _length_problems(name: str, flow: Flow) -> Iterable[Problem]:
    """Keeps each kind of message within its SMS budget (an error past it), and warns of
    characters outside the SMS alphabet, which cost more."""
    def size(text: str):
        return gsm7.segments(gsm7.normalise(text))

    first = size(flow.welcome).count + size(flow.consent).count
    if first > BUDGETS["first contact"]:
        yield Problem(name, "welcome + consent.text",
                      f"le premier contact fait {first} SMS, {BUDGETS['first contact']} au "
                      "plus : raccourcissez l'accueil ou la notice")
    messages = [("aide", "help", help_message(flow)),
                ("consent.refused", "refusal", flow.consent_refused),
                ("closing", "closing", flow.closing)]
    messages += [(f"closings {n}", "closing", text)
                 for n, (_, text) in enumerate(flow.closings, 1)]
    messages += [(f"question {q.id}", "question", prompt(flow, q).text) for q in flow.questions]
    for where, kind, text in messages:
        found = size(text)
        if found.count > BUDGETS[kind]:
            yield Problem(name, where, f"{found.count} SMS ({found.encoding}, {found.units} "
                                       f"caractères), {BUDGETS[kind]} au plus")
    for where, text in [("welcome", flow.welcome), ("consent.text", flow.consent),
                        *((w, t) for w, _, t in messages)]:
        if size(text).encoding != "GSM-7":
            yield Problem(name, where, "caractères hors alphabet SMS (UCS-2) : le message "
                                       "coûte plus cher", warning=True)


def _condition(spec: ConditionSpec) -> Condition:
    return Condition(spec.question, spec.equals, tuple(spec.any_of), tuple(spec.none_of))


def _build(spec: ConsultationSpec, privacy_url: str) -> Flow:
    def text(value: str) -> str:
        return value.strip().replace(PRIVACY_PLACEHOLDER, privacy_url)

    questions = tuple(
        Question(
            id=q.id, type=q.type, text=text(q.text), label=(q.label or "").strip() or None,
            required=q.required,
            hint=text(q.hint) if q.hint else None,
            choices=tuple(Choice(c.value, text(c.label), tuple(c.aliases), c.next)
                          for c in q.choices),
            when=_condition(q.when) if q.when else None,
            next=q.next, purpose=q.purpose, classify=q.classify,
            confirm_theme=q.confirm_theme, minimum=q.min, maximum=q.max,
            max_choices=q.max_choices,
        )
        for q in spec.questions
    )
    return Flow(
        id=spec.id, title=spec.title, welcome=text(spec.welcome), consent=text(spec.consent.text),
        consent_refused=text(spec.consent.refused), closing=text(spec.closing),
        closings=tuple((_condition(c.when), text(c.text)) for c in spec.closings),
        questions=questions,
        themes=tuple(Theme(t.id, t.label, t.description, tuple(t.examples))
                     for t in spec.themes),
        audience=spec.audience, version=spec.version, expiry_hours=spec.expiry_hours,
        retention_days=spec.retention_days, keyword=spec.keyword,
        help=text(spec.help) if spec.help else None,
        privacy_url=privacy_url,
    )

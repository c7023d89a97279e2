"""Aggregates officials read: the funnel of a consultation, its answers counted per choice and
per theme, and who took part, each in a few grouped queries whatever the number of answers."""

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Text, and_, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import tallies
from storage.answer_queries import AnswerFilter
from storage.tables import Answer, AnswerTheme, Association

# The engine's statuses (bot/engine/session.py), as stored in consultation_sessions.status.
CONSENT, ACTIVE, COMPLETED, REFUSED = "consent", "active", "completed", "refused"
STOPPED, ERASED, FAILED = "stopped", "erased", "failed"
# These can be reached before or after consent; the session's state says which.
LEFT = (STOPPED, ERASED, FAILED)
TREND_DAYS = 7
# A trend is said only past these counts: with fewer answers any change is chance.
TREND_MIN_ANSWERS = 20
TREND_MIN_BEFORE = 5


@dataclass
class Tally:
    """Sessions of one group, by how far they went."""

    sessions: int = 0
    started: int = 0  # past consent
    completed: int = 0

    @property
    def completion_rate(self) -> float | None:
        """Returns the share of started sessions that were completed."""
        return self.completed / self.started if self.started else None

    def add(self, sessions: int, started: int, completed: int) -> None:
        """Adds counts to this tally."""
        self.sessions += sessions
        self.started += started
        self.completed += completed


@dataclass
class Funnel(Tally):
    """Every session of a consultation, by status."""

    statuses: Counter = field(default_factory=Counter)
    left_after_consent: int = 0  # stopped, erased or failed once started

    @property
    def awaiting_consent(self) -> int:
        """Returns the sessions still waiting for a yes or no."""
        return self.statuses[CONSENT]

    @property
    def refused(self) -> int:
        """Returns the sessions whose participant said no to the notice."""
        return self.statuses[REFUSED]

    @property
    def stopped(self) -> int:
        """Returns the sessions the participant stopped (STOP), before or after consent."""
        return self.statuses[STOPPED]

    @property
    def in_progress(self) -> int:
        """Returns the started sessions still waiting for an answer."""
        return self.statuses[ACTIVE]


@dataclass(frozen=True)
class Group:
    """One line of a breakdown: a channel, an association or a département."""

    key: str | int | None
    name: str | None
    tally: Tally


@dataclass(frozen=True)
class Period:
    """Sessions opened in one day or ISO week (Paris time)."""

    start: datetime  # the period's first day, midnight in Paris
    sessions: int
    completed: int


@dataclass(frozen=True)
class Overview:
    """Who took part in a consultation and how far they went."""

    funnel: Funnel
    by_channel: list[Group]
    by_association: list[Group]
    by_territory: list[Group]


async def overview(tx: AsyncSession, consultation_id: str,
                   hidden_channels: tuple[str, ...] = ()) -> Overview:
    """Returns the funnel and its breakdowns from the tallies; the participants of
    `hidden_channels` (trials) are left out."""
    funnel = Funnel()
    channels: dict = {}
    associations: dict = {}
    territories: dict = {}
    for key, n in (await tallies.session_counts(tx, consultation_id)).items():
        if key.channel in hidden_channels:
            continue
        started_n = n if key.went_on else 0
        completed_n = n if key.status == COMPLETED else 0
        funnel.add(n, started_n, completed_n)
        funnel.statuses[key.status] += n
        if key.went_on and key.status in LEFT:
            funnel.left_after_consent += n
        for groups, group in ((channels, key.channel), (associations, key.association_id),
                              (territories, key.territory)):
            groups.setdefault(group, Tally()).add(n, started_n, completed_n)
    names = await association_names(tx, [k for k in associations if k is not None])
    return Overview(
        funnel=funnel,
        by_channel=_groups(channels, {}),
        by_association=_groups(associations, names),
        by_territory=_groups(territories, {}))


def _groups(tallies: dict, names: dict) -> list[Group]:
    """Lists groups, the largest first, the unknown key last."""
    found = [Group(key, names.get(key), tally) for key, tally in tallies.items()]
    return sorted(found, key=lambda g: (g.key is None, -g.tally.sessions, str(g.key)))


async def association_names(tx: AsyncSession,
                            ids: list[int] | None = None) -> dict[int, str]:
    """Returns the names of some associations by id, or of all of them."""
    if ids is not None and not ids:
        return {}
    statement = select(Association.id, Association.name)
    if ids is not None:
        statement = statement.where(Association.id.in_(ids))
    return dict((await tx.execute(statement)).all())


async def timeline(tx: AsyncSession, consultation_id: str, *, weekly: bool,
                   hidden_channels: tuple[str, ...] = ()) -> list[Period]:
    """Returns the sessions opened per day or ISO week (Paris time), with how many of them
    were completed."""
    periods: dict[datetime, list[int]] = {}
    days = await tallies.sessions_per_day(tx, consultation_id, hidden_channels)
    for day, (sessions, completed) in days.items():
        if weekly:
            day -= timedelta(days=day.weekday())
        start = datetime(day.year, day.month, day.day, tzinfo=tallies.PARIS)
        counts = periods.setdefault(start, [0, 0])
        counts[0] += sessions
        counts[1] += completed
    return [Period(start, *periods[start]) for start in sorted(periods)]


@dataclass(frozen=True)
class ChoiceCounts:
    """The answers to a closed question, counted per value."""

    respondents: int  # answers with a value (a multiple choice counts once)
    skipped: int  # answers without a value (the participant skipped the question)
    counts: dict[str, int]  # value as text ("true", "3", "velo") → answers holding it


def _value_key(value: object) -> str:
    """Returns how a stored value is named in the consultation's choices."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


async def choice_counts(tx: AsyncSession, answers: AnswerFilter) -> ChoiceCounts:
    """Counts a closed question's valid answers per value: from the tallies when the filter
    takes every answer, else grouped on the JSON text (a few distinct values, even for a
    million answers); lists of a multiple choice expanded here."""
    if answers.whole():
        grouped = Counter()
        for key, n in (await tallies.answer_counts(tx, answers.consultation_id)).items():
            if key.question_id == answers.question_id and key.valid \
                    and key.channel not in answers.hidden_channels:
                grouped[key.value] += n
        rows = grouped.items()
    else:
        as_text = cast(Answer.value, Text)
        rows = await tx.execute(select(as_text, func.count())
                                .where(and_(*answers.conditions()), Answer.valid.is_(True))
                                .group_by(as_text))
    counts: Counter = Counter()
    respondents = skipped = 0
    for text, n in rows:
        value = json.loads(text) if text is not None else None
        if value is None or value == []:
            skipped += n
            continue
        respondents += n
        for item in value if isinstance(value, list) else [value]:
            counts[_value_key(item)] += n
    return ChoiceCounts(respondents, skipped, dict(counts))


@dataclass(frozen=True)
class ThemeCount:
    """How many answers speak of a theme, overall and over the last two weeks."""

    theme: str | None  # None: not classified yet
    answers: int
    last_week: int  # the last TREND_DAYS days
    week_before: int  # the TREND_DAYS days before those

    @property
    def trend(self) -> int | None:
        """Returns the change from the week before to the last week, in answers; None when
        too few answers make any change noise (a first week always "rises")."""
        if self.week_before < TREND_MIN_BEFORE or \
                self.last_week + self.week_before < TREND_MIN_ANSWERS:
            return None
        return self.last_week - self.week_before


@dataclass(frozen=True)
class ThemeCounts:
    """A question's answers per theme: an answer raising several themes counts in each, so
    the themes' counts may add up to more than the answers."""

    answers: int  # answers selected, each counted once
    themes: list[ThemeCount]  # the most frequent first, the unclassified last


async def theme_counts(tx: AsyncSession, answers: AnswerFilter,
                       now: datetime) -> ThemeCounts:
    """Counts a question's answers per theme that counts for them, overall and over the last
    two weeks; answers without a theme yet are counted apart."""
    conditions = and_(*answers.conditions())
    if answers.whole() and answers.question_id is not None:
        # The tallies: every answer of the question, counted once a pass, not per request.
        totals: Counter = Counter()
        classified = 0
        for key, n in (await tallies.shown_themes(tx, answers.consultation_id,
                                                  answers.hidden_channels,
                                                  [answers.question_id])).items():
            totals[key.theme] += n
            classified += n if key.main else 0
        selected = (await answers_per_question(tx, answers)).get(answers.question_id, 0)
        waiting = selected - classified  # an answer with a theme has exactly one main one
    else:
        themed = select(AnswerTheme.theme.label("theme"), func.count()) \
            .join(Answer, Answer.id == AnswerTheme.answer_id).where(conditions)
        totals = dict((await tx.execute(themed.group_by(AnswerTheme.theme))).all())
        waiting = await tx.scalar(select(func.count()).select_from(Answer)
                                  .where(conditions, Answer.theme.is_(None))) or 0
        selected = await tx.scalar(select(func.count()).select_from(Answer)
                                   .where(conditions)) or 0
    recent = Answer.answered_at >= now - timedelta(days=TREND_DAYS)
    window = (Answer.answered_at >= now - timedelta(days=2 * TREND_DAYS),
              Answer.answered_at < now)
    trend = await tx.execute(
        select(AnswerTheme.theme, func.sum(case((recent, 1), else_=0)), func.count())
        .join(Answer, Answer.id == AnswerTheme.answer_id)
        .where(conditions, *window).group_by(AnswerTheme.theme))
    weeks = {theme: (last or 0, both - (last or 0)) for theme, last, both in trend}
    found = [ThemeCount(theme, n, *weeks.get(theme, (0, 0))) for theme, n in totals.items()]
    if waiting:
        found.append(ThemeCount(None, waiting, 0, 0))
    return ThemeCounts(selected, sorted(found, key=lambda t: (t.theme is None, -t.answers,
                                                             t.theme or "")))


async def answers_per_question(tx: AsyncSession, answers: AnswerFilter) -> dict[str, int]:
    """Counts a filter's answers per question (from the tallies when it takes them all)."""
    if answers.whole():
        found: Counter = Counter()
        for key, n in (await tallies.answer_counts(tx, answers.consultation_id)).items():
            if key.channel not in answers.hidden_channels and \
                    answers.question_id in (None, key.question_id):
                found[key.question_id] += n
        return dict(found)
    rows = await tx.execute(select(Answer.question_id, func.count())
                            .where(and_(*answers.conditions()))
                            .group_by(Answer.question_id))
    return dict(rows.all())


async def trial_sessions(tx: AsyncSession, consultation_id: str,
                         channels: tuple[str, ...]) -> int:
    """Counts a consultation's sessions of participants on these (trial) channels."""
    counts = await tallies.session_counts(tx, consultation_id)
    return sum(n for key, n in counts.items() if key.channel in channels)


async def participants_by_profile(tx: AsyncSession, consultation_id: str,
                                  hidden_channels: tuple[str, ...] = ()
                                  ) -> dict[tuple[str | None, str | None], int]:
    """Counts the sessions that said where they live or how old they are, per (territory,
    age band): the participants whose profile can be compared with the population."""
    found: Counter = Counter()
    for key, n in (await tallies.session_counts(tx, consultation_id)).items():
        if key.channel not in hidden_channels and \
                (key.territory is not None or key.age_band is not None):
            found[(key.territory, key.age_band)] += n
    return dict(found)

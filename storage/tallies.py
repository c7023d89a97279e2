"""Running counts of sessions and answers that the admin pages read instead of every row.

Three tallies: sessions, answers by value, and the themes that count for answers. Counts are
kept per day (Paris time) of a session's start, and as totals over all days. Every write that
changes what is counted leaves a mark on its day, in its own transaction: a session opened or
written by a turn, an answer added or set aside, its themes changed (a model, an official, the
participant), an erasure, a purge, an association found later. The worker's pass (`refresh`)
recounts the marked days from the rows, rewrites the totals and clears the marks it saw. A page
reads the totals and recounts, from the rows, only the days still marked: exact at every
request, whatever the clocks say, and as costly at a million answers as at a hundred thousand."""

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Select,
    Text,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from storage.database import Database

from storage.tables import (
    Answer,
    AnswerTally,
    AnswerTheme,
    ConsultationSession,
    Participant,
    SessionTally,
    TallyMark,
    TallyState,
    ThemeTally,
)

PARIS = ZoneInfo("Europe/Paris")  # the Region's time: the days officials read
# Past this many changed days a page recounts everything in one pass rather than day by day.
MAX_DAYS_APART = 31
MARKS_AT_ONCE = 500  # marks deleted per statement (SQLite limits bound parameters)

# The engine's statuses that need the session's state to say whether consent was given.
_ACTIVE, _COMPLETED = "active", "completed"
_LEFT = ("stopped", "erased", "failed")


@dataclass(frozen=True)
class SessionKey:
    """What the pages break sessions down by."""

    channel: str
    association_id: int | None
    territory: str | None
    age_band: str | None
    status: str
    went_on: bool  # past consent
    feedback_opt_in: bool | None


@dataclass(frozen=True)
class AnswerKey:
    """What the pages break answers down by: the value as canonical JSON text."""

    channel: str | None
    question_id: str
    value: str  # "null" for none (free text, skipped)
    valid: bool


@dataclass(frozen=True)
class ThemeKey:
    """What the pages break themes down by: one theme that counts for an answer."""

    channel: str | None
    question_id: str
    theme: str
    source: str  # who chose it: model, official, participant
    main: bool  # the answer's main theme: counting these counts classified answers


# -- what changed


async def touch_records(tx: AsyncSession, sessions: Iterable) -> None:
    """Marks the days of sessions about to be written (anything with `consultation_id` and
    `started_at`): a turn's sessions, opened or changed."""
    found: dict[str, set[date]] = {}
    for session in sessions:
        found.setdefault(session.consultation_id, set()).add(day_of(session.started_at))
    for consultation_id, days in found.items():
        await touch_consultation_days(tx, consultation_id, days)


async def touch_participants(tx: AsyncSession, participant_ids: Iterable[int]) -> None:
    """Marks the days of these participants' sessions as changed: call it before deleting
    them, or after changing what their sessions are counted by (their association)."""
    ids = list(participant_ids)
    if ids:
        await _mark(tx, ConsultationSession.participant_id.in_(ids))


async def touch_sessions(tx: AsyncSession, sessions: Iterable[int] | Select) -> None:
    """Marks the days of these sessions (ids, or a query of ids) as changed: before they are
    deleted, or when an answer of theirs is added or set aside."""
    ids = sessions if isinstance(sessions, Select) else list(sessions)
    if isinstance(ids, Select) or ids:
        await _mark(tx, ConsultationSession.id.in_(ids))


async def touch_consultation_days(tx: AsyncSession, consultation_id: str,
                                  days: Iterable[date], at: datetime | None = None) -> None:
    """Marks days of a consultation as changed."""
    at = at or datetime.now(UTC)
    rows = [{"consultation_id": consultation_id, "day": day, "marked_at": at}
            for day in sorted(set(days))]
    if rows:
        await tx.execute(insert(TallyMark), rows)


async def _mark(tx: AsyncSession, condition) -> None:
    """Marks the days of the sessions a condition selects, grouped by hour in the database."""
    session = ConsultationSession
    hour = _hour(session.started_at, tx.bind.dialect.name)
    found: dict[str, set[date]] = {}
    for consultation_id, value in await tx.execute(
            select(session.consultation_id, hour).where(condition).distinct()):
        found.setdefault(consultation_id, set()).add(day_of(_from_hour(value)))
    for consultation_id, days in found.items():
        await touch_consultation_days(tx, consultation_id, days)


async def touch_answers(tx: AsyncSession, answer_ids: Iterable[int]) -> None:
    """Marks the days of these answers' sessions as changed: when their themes change."""
    ids = sorted(set(answer_ids))
    if ids:
        await touch_sessions(tx, select(Answer.session_id).where(Answer.id.in_(ids)))


def day_of(moment: datetime) -> date:
    """Returns the Paris day of a UTC moment."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(PARIS).date()


def bounds(day: date) -> tuple[datetime, datetime]:
    """Returns the UTC moments a Paris day starts and ends at."""
    start = datetime.combine(day, time(), PARIS)
    end = datetime.combine(day + timedelta(days=1), time(), PARIS)
    return start.astimezone(UTC), end.astimezone(UTC)


async def _state(tx: AsyncSession, consultation_id: str) -> TallyState | None:
    return await tx.get(TallyState, consultation_id)


async def _changed_days(tx: AsyncSession, consultation_id: str) -> tuple[set[date], list[int]]:
    """Returns the days marked as changed since the last pass, and the marks that say so."""
    days, ids = set(), []
    for mark_id, day in await tx.execute(select(TallyMark.id, TallyMark.day)
                                         .where(TallyMark.consultation_id == consultation_id)):
        ids.append(mark_id)
        days.add(day)
    return days, ids


def _hour(column, dialect: str):
    """Returns an SQL expression of a UTC timestamp truncated to the hour, as text."""
    if dialect == "postgresql":
        return func.to_char(func.date_trunc("hour", func.timezone("UTC", column)),
                            "YYYY-MM-DD HH24")
    # SQLite keeps UTC timestamps as "YYYY-MM-DD HH:MM:SS…" text: cutting it costs less
    # than strftime on every row.
    return func.substr(column, 1, 13)


def _from_hour(value: str) -> datetime:
    return datetime.fromisoformat(value + ":00+00:00")


def _within(column, days: set[date] | None):
    """Returns the condition that a timestamp falls on one of these Paris days (all: None)."""
    if days is None:
        return literal(True)
    spans = _spans(days)
    return or_(*(and_(column >= start, column < end) for start, end in spans))


def _spans(days: set[date]) -> list[tuple[datetime, datetime]]:
    """Returns the UTC spans of a set of Paris days, consecutive days joined."""
    spans: list[list[datetime]] = []
    for day in sorted(days):
        start, end = bounds(day)
        if spans and spans[-1][1] == start:
            spans[-1][1] = end
        else:
            spans.append([start, end])
    return [(start, end) for start, end in spans]


# -- counting from the rows


async def _count_sessions(tx: AsyncSession, consultation_id: str,
                          days: set[date] | None) -> dict[date, Counter]:
    """Counts a consultation's sessions started on these days (all: None), per day and key."""
    session, participant = ConsultationSession, Participant
    consented = session.state["consented"].as_boolean()
    # Only sessions that ended early need the state read: the others' status says it all.
    went_on = case((session.status.in_((_ACTIVE, _COMPLETED)), literal(True)),
                   (session.status.in_(_LEFT), func.coalesce(consented, False)),
                   else_=literal(False))
    hour = _hour(session.started_at, tx.bind.dialect.name)
    rows = await tx.execute(
        select(hour, participant.channel, participant.association_id, session.territory,
               session.age_band, session.status, went_on, session.feedback_opt_in,
               func.count())
        .join(participant, participant.id == session.participant_id)
        .where(session.consultation_id == consultation_id, _within(session.started_at, days))
        .group_by(hour, participant.channel, participant.association_id, session.territory,
                  session.age_band, session.status, went_on, session.feedback_opt_in))
    found: dict[date, Counter] = {}
    for value, *key, n in rows:
        key[5] = bool(key[5])
        found.setdefault(day_of(_from_hour(value)), Counter())[SessionKey(*key)] += n
    return found


async def _count_answers(tx: AsyncSession, consultation_id: str,
                         days: set[date] | None) -> dict[date, Counter]:
    """Counts the answers, not set aside, of sessions started on these days (all: None), per
    day and key."""
    session = ConsultationSession
    hour = _hour(session.started_at, tx.bind.dialect.name)
    as_text = cast(Answer.value, Text)
    rows = await tx.execute(
        select(hour, Answer.channel, Answer.question_id, as_text, Answer.valid, func.count())
        .join(session, session.id == Answer.session_id)
        .where(session.consultation_id == consultation_id, _within(session.started_at, days),
               Answer.excluded.is_(None))
        .group_by(hour, Answer.channel, Answer.question_id, as_text, Answer.valid))
    found: dict[date, Counter] = {}
    for value, channel, question_id, raw, valid, n in rows:
        key = AnswerKey(channel, question_id, canonical(raw), bool(valid))
        found.setdefault(day_of(_from_hour(value)), Counter())[key] += n
    return found


async def _count_themes(tx: AsyncSession, consultation_id: str,
                        days: set[date] | None) -> dict[date, Counter]:
    """Counts the themes that count for answers, not set aside, of sessions started on these
    days (all: None), per day and key."""
    session = ConsultationSession
    hour = _hour(session.started_at, tx.bind.dialect.name)
    main = AnswerTheme.theme == Answer.theme
    rows = await tx.execute(
        select(hour, Answer.channel, Answer.question_id, AnswerTheme.theme, AnswerTheme.source,
               main, func.count())
        .select_from(AnswerTheme)
        .join(Answer, Answer.id == AnswerTheme.answer_id)
        .join(session, session.id == Answer.session_id)
        .where(session.consultation_id == consultation_id, _within(session.started_at, days),
               Answer.excluded.is_(None))
        .group_by(hour, Answer.channel, Answer.question_id, AnswerTheme.theme,
                  AnswerTheme.source, main))
    found: dict[date, Counter] = {}
    for value, channel, question_id, theme, source, is_main, n in rows:
        key = ThemeKey(channel, question_id, theme, source, bool(is_main))
        found.setdefault(day_of(_from_hour(value)), Counter())[key] += n
    return found


def canonical(raw: str | None) -> str:
    """Returns a stored JSON value as one text whatever the database wrote."""
    if raw is None:
        return "null"
    return json.dumps(json.loads(raw), ensure_ascii=False, separators=(",", ":"))


# -- what is stored


_KINDS = {
    "sessions": (SessionTally, SessionKey, "sessions", _count_sessions),
    "answers": (AnswerTally, AnswerKey, "answers", _count_answers),
    "themes": (ThemeTally, ThemeKey, "answers", _count_themes),
}


async def _stored(tx: AsyncSession, kind: str, consultation_id: str,
                  days: set[date] | None) -> dict[date | None, Counter]:
    """Returns stored counts of some days (None: the totals row, day NULL) by day and key."""
    table, key_type, count, _ = _KINDS[kind]
    fields = list(key_type.__dataclass_fields__)
    columns = [getattr(table, name) for name in fields]
    condition = table.day.is_(None) if days is None else table.day.in_(sorted(days))
    rows = await tx.execute(select(table.day, *columns, getattr(table, count))
                            .where(table.consultation_id == consultation_id, condition))
    found: dict[date | None, Counter] = {}
    for day, *key, n in rows:
        found.setdefault(day, Counter())[key_type(*key)] += n
    return found


async def _recount(tx: AsyncSession, kind: str, consultation_id: str,
                   days: set[date] | None) -> tuple[dict[date, Counter], Counter]:
    """Recounts some days (all: None) from the rows; returns them by day, and the totals
    they make with the stored counts of the other days."""
    fresh = await _KINDS[kind][3](tx, consultation_id, days)
    if days is None:
        return fresh, _sum(fresh)
    totals = Counter((await _stored(tx, kind, consultation_id, None)).get(None, Counter()))
    totals.subtract(_sum(await _stored(tx, kind, consultation_id, days)))
    totals.update(_sum(fresh))
    return fresh, totals


async def _counts(tx: AsyncSession, kind: str, consultation_id: str) -> Counter:
    """Returns a consultation's counts by key, exact now: totals of the last pass, with the
    days changed since recounted from the rows."""
    if await _state(tx, consultation_id) is None:  # never counted (a new or test database)
        days = None
    else:
        days, _ = await _changed_days(tx, consultation_id)
        if not days:
            return (await _stored(tx, kind, consultation_id, None)).get(None, Counter())
        if len(days) > MAX_DAYS_APART:
            days = None
    _, totals = await _recount(tx, kind, consultation_id, days)
    return +totals  # drops keys that fell to zero


def _sum(by_day: dict) -> Counter:
    total: Counter = Counter()
    for counts in by_day.values():
        total.update(counts)
    return total


async def session_counts(tx: AsyncSession, consultation_id: str) -> Counter:
    """Returns a consultation's sessions by key, exact at this moment."""
    return await _counts(tx, "sessions", consultation_id)


async def answer_counts(tx: AsyncSession, consultation_id: str) -> Counter:
    """Returns a consultation's answers not set aside by key, exact at this moment."""
    return await _counts(tx, "answers", consultation_id)


async def theme_counts(tx: AsyncSession, consultation_id: str) -> Counter:
    """Returns the themes that count for a consultation's answers not set aside, by key,
    exact at this moment."""
    return await _counts(tx, "themes", consultation_id)


async def shown_themes(tx: AsyncSession, consultation_id: str,
                       hidden_channels: tuple[str, ...] = (),
                       question_ids: Iterable[str] | None = None) -> Counter:
    """Returns `theme_counts` without the hidden channels, of some questions (all: None)."""
    questions = None if question_ids is None else set(question_ids)
    return Counter({key: n for key, n in (await theme_counts(tx, consultation_id)).items()
                    if key.channel not in hidden_channels
                    and (questions is None or key.question_id in questions)})


async def sessions_per_day(tx: AsyncSession, consultation_id: str,
                           hidden_channels: tuple[str, ...] = ()) -> dict[date, tuple[int, int]]:
    """Returns, per Paris day, the sessions started and how many of them were completed."""
    state = await _state(tx, consultation_id)
    if state is None:
        found = {day: _per_day(counts, hidden_channels) for day, counts
                 in (await _count_sessions(tx, consultation_id, None)).items()}
    else:
        days, _ = await _changed_days(tx, consultation_id)
        table = SessionTally
        completed = func.sum(case((table.status == _COMPLETED, table.sessions), else_=0))
        rows = await tx.execute(
            select(table.day, func.sum(table.sessions), completed)
            .where(table.consultation_id == consultation_id, table.day.is_not(None),
                   table.day.not_in(sorted(days)) if days else literal(True),
                   table.channel.not_in(hidden_channels) if hidden_channels else literal(True))
            .group_by(table.day))
        found = {day: (int(n), int(done or 0)) for day, n, done in rows}
        for day, counts in (await _count_sessions(tx, consultation_id, days)).items() \
                if days else ():
            found[day] = _per_day(counts, hidden_channels)
    # A day with only hidden sessions (trials) is no day of the consultation.
    return {day: counts for day, counts in sorted(found.items()) if counts[0]}


def _per_day(counts: Counter, hidden_channels: tuple[str, ...]) -> tuple[int, int]:
    shown = [(key, n) for key, n in counts.items() if key.channel not in hidden_channels]
    return (sum(n for _, n in shown),
            sum(n for key, n in shown if key.status == _COMPLETED))


# -- the worker's pass


async def refresh(db: "Database", consultation_id: str, now: datetime) -> int:
    """Recounts the days of a consultation marked since the last pass and rewrites its
    totals; returns how many days were recounted (all of them on a first pass). Counts in a
    read transaction, so writers never wait for it, and writes in a short one; a mark left
    by a write that commits meanwhile stays for the next pass."""
    async with db.read() as tx:
        state = await _state(tx, consultation_id)
        passes = state.passes if state is not None else 0
        days, marks = await _changed_days(tx, consultation_id)
        if state is None:
            days = None  # a first pass counts everything
        elif not days:
            return 0  # nothing changed: no write at all
        counted = {kind: await _recount(tx, kind, consultation_id, days) for kind in _KINDS}
    async with db.transaction() as tx:
        if tx.bind.dialect.name == "postgresql":  # two workers: one pass at a time
            await tx.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                             {"key": f"tallies:{consultation_id}"})
        state = await _state(tx, consultation_id)
        if (state.passes if state is not None else 0) != passes:
            return 0  # another pass wrote meanwhile: what was counted here is stale
        for kind, (fresh, totals) in counted.items():
            table = _KINDS[kind][0]
            which = table.consultation_id == consultation_id
            if days is not None:
                which = and_(which, or_(table.day.in_(sorted(days)), table.day.is_(None)))
            await tx.execute(delete(table).where(which))
            rows = [_row(kind, consultation_id, day, key, n)
                    for day, counts in fresh.items() for key, n in counts.items() if n]
            rows += [_row(kind, consultation_id, None, key, n)
                     for key, n in totals.items() if n > 0]
            if rows:
                await tx.execute(insert(table), rows)
        for start in range(0, len(marks), MARKS_AT_ONCE):
            await tx.execute(delete(TallyMark).where(
                TallyMark.id.in_(marks[start:start + MARKS_AT_ONCE])))
        if state is None:
            tx.add(TallyState(consultation_id=consultation_id, refreshed_at=now, passes=1))
        else:
            state.refreshed_at = now
            state.passes = passes + 1
    return len(counted["sessions"][0]) if days is None else len(days)


def _row(kind: str, consultation_id: str, day: date | None, key, n: int) -> dict:
    _, _, count, _ = _KINDS[kind]
    return {"consultation_id": consultation_id, "day": day, **key.__dict__, count: n}

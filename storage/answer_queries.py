"""Answers as the admin view reads them: filtered, counted, paged and streamed."""

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage import search
from storage.labels import themes_of_answers
from storage.tables import Answer, AnswerTheme

STREAM_BATCH = 2_000


# Conversations on these channels are trials by the team (the web chat, the terminal), not
# citizens': left out of every figure unless an official asks for them.
TRIAL_CHANNELS = ("web", "terminal")


@dataclass(frozen=True)
class AnswerFilter:
    """Which answers to read; empty tuples and None mean "all"."""

    consultation_id: str
    question_id: str | None = None
    themes: tuple[str, ...] = ()
    territories: tuple[str, ...] = ()
    association_ids: tuple[int, ...] = ()
    channels: tuple[str, ...] = ()
    since: datetime | None = None  # answered at or after
    until: datetime | None = None  # answered before
    min_score: float | None = None  # the model's confidence in the main theme, 0 to 1
    max_score: float | None = None
    text_only: bool = False  # only answers with a redacted text (free-text questions)
    # Channels left out unless `channels` names them (trials: the simulator, the terminal).
    hidden_channels: tuple[str, ...] = ()
    with_set_aside: bool = False  # also answers an official set aside (off-topic, tests…)
    search: str = ""  # words the answer's redacted text must hold, accents and case aside

    def whole(self) -> bool:
        """Says whether this filter takes every answer of its consultation (or question) but
        the hidden channels': then the tallies can count them."""
        return (not (self.themes or self.territories or self.association_ids or self.channels
                     or self.search or self.text_only or self.with_set_aside)
                and self.since is None and self.until is None
                and self.min_score is None and self.max_score is None)

    def conditions(self) -> list[ColumnElement[bool]]:
        """Returns the SQL conditions of this filter on the answers table."""
        found = [Answer.consultation_id == self.consultation_id]
        if self.question_id is not None:
            found.append(Answer.question_id == self.question_id)
        if self.themes:  # any of the themes that count for it, not only the main one
            # An alias: the counts per theme join answer_themes themselves.
            other = aliased(AnswerTheme)
            found.append(exists().where(other.answer_id == Answer.id,
                                        other.theme.in_(self.themes)))
        for column, values in ((Answer.territory, self.territories),
                               (Answer.association_id, self.association_ids),
                               (Answer.channel, self.channels)):
            if values:
                found.append(column.in_(values))
        if self.hidden_channels and not self.channels:
            found.append(or_(Answer.channel.is_(None),
                             Answer.channel.not_in(self.hidden_channels)))
        if not self.with_set_aside:
            found.append(Answer.excluded.is_(None))
        if self.search and (condition := search.matching(self.search)) is not None:
            found.append(condition)
        if self.since is not None:
            found.append(Answer.answered_at >= self.since)
        if self.until is not None:
            found.append(Answer.answered_at < self.until)
        if self.min_score is not None:
            found.append(Answer.theme_score >= self.min_score)
        if self.max_score is not None:
            found.append(Answer.theme_score <= self.max_score)
        if self.text_only:
            found.append(Answer.redacted_text.is_not(None))
        return found


@dataclass(frozen=True)
class AnswerRow:
    """One answer as officials may read it: redacted, pseudonymous."""

    id: int
    session_id: int
    question_id: str
    text: str | None  # redacted; None until the worker has redacted it
    value: object
    theme: str | None
    theme_score: float | None
    theme_source: str | None
    territory: str | None
    association_id: int | None
    channel: str | None
    answered_at: datetime
    excluded: str | None  # why an official set it aside, if they did
    themes: tuple[str, ...] = ()  # every theme that counts, the main one first


_COLUMNS = (Answer.id, Answer.session_id, Answer.question_id, Answer.redacted_text,
            Answer.value, Answer.theme, Answer.theme_score, Answer.theme_source,
            Answer.territory, Answer.association_id, Answer.channel, Answer.answered_at,
            Answer.excluded)


async def _with_themes(tx: AsyncSession, rows: list) -> list[AnswerRow]:
    """Adds every theme that counts to a batch of answers, in one query."""
    found = [AnswerRow(*row) for row in rows]
    several = await themes_of_answers(tx, [r.id for r in found if r.theme is not None])
    return [replace(r, themes=tuple(several.get(r.id, ()))) for r in found]


async def count(tx: AsyncSession, answers: AnswerFilter) -> int:
    """Counts the answers of a filter."""
    return await tx.scalar(select(func.count()).select_from(Answer)
                           .where(and_(*answers.conditions()))) or 0


async def page(tx: AsyncSession, answers: AnswerFilter, *, offset: int,
               limit: int) -> list[AnswerRow]:
    """Returns one page of a filter's answers, newest first."""
    rows = await tx.execute(select(*_COLUMNS).where(and_(*answers.conditions()))
                            .order_by(Answer.id.desc()).offset(offset).limit(limit))
    return await _with_themes(tx, rows.all())


async def stream(tx: AsyncSession, answers: AnswerFilter,
                 batch: int = STREAM_BATCH) -> AsyncIterator[AnswerRow]:
    """Yields every answer of a filter, oldest first, a batch at a time: constant memory."""
    after = 0
    while True:
        rows = (await tx.execute(select(*_COLUMNS)
                                 .where(and_(*answers.conditions()), Answer.id > after)
                                 .order_by(Answer.id).limit(batch))).all()
        for row in await _with_themes(tx, rows):
            yield row
        if len(rows) < batch:
            return
        after = rows[-1][0]

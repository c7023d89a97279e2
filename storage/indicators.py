"""Grouped counts behind a consultation's indicators, its exports and its bilan."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import tallies
from storage.answer_queries import AnswerFilter
from storage.outbox import SENT
from storage.tables import (
    Answer,
    AnswerTheme,
    FeedbackMessage,
    OutboxMessage,
)


@dataclass(frozen=True)
class Participation:
    """How many participants share one association, status, opt-in, territory and age band."""

    association_id: int | None
    status: str
    feedback_opt_in: bool | None
    territory: str | None
    age_band: str | None
    participants: int


async def participation(tx: AsyncSession, consultation_id: str,
                        hidden_channels: tuple[str, ...] = ()) -> list[Participation]:
    """Counts the sessions that went past consent, as the overview does, from the tallies."""
    found: Counter = Counter()
    for key, n in (await tallies.session_counts(tx, consultation_id)).items():
        if key.went_on and key.channel not in hidden_channels:
            found[(key.association_id, key.status, key.feedback_opt_in, key.territory,
                   key.age_band)] += n
    return [Participation(*group, n) for group, n in found.items()]


async def _themes(tx: AsyncSession, answers: AnswerFilter,
                  question_ids: list[str] | None = None) -> Counter:
    """The theme tally of a whole filter, of its question or of these questions."""
    questions = [answers.question_id] if answers.question_id is not None else question_ids
    return await tallies.shown_themes(tx, answers.consultation_id, answers.hidden_channels,
                                      questions)


async def classified_answers(tx: AsyncSession, answers: AnswerFilter,
                             question_ids: list[str]) -> int:
    """Counts the answers of some questions that have at least one theme."""
    if answers.whole():
        return sum(n for key, n in (await _themes(tx, answers, question_ids)).items()
                   if key.main)
    return await tx.scalar(
        select(func.count(distinct(AnswerTheme.answer_id)))
        .join(Answer, Answer.id == AnswerTheme.answer_id)
        .where(and_(*answers.conditions()), Answer.question_id.in_(question_ids))) or 0


async def theme_totals(tx: AsyncSession, answers: AnswerFilter,
                       question_ids: list[str]) -> dict[str, int]:
    """Counts the answers of some questions per theme that counts for them (an answer with
    several themes counts in each)."""
    if answers.whole():
        found: Counter = Counter()
        for key, n in (await _themes(tx, answers, question_ids)).items():
            found[key.theme] += n
        return dict(found)
    rows = await tx.execute(
        select(AnswerTheme.theme, func.count())
        .join(Answer, Answer.id == AnswerTheme.answer_id)
        .where(and_(*answers.conditions()), Answer.question_id.in_(question_ids))
        .group_by(AnswerTheme.theme))
    return dict(rows.all())


async def theme_counts(tx: AsyncSession, answers: AnswerFilter) -> list[tuple[str, str, int]]:
    """Counts a filter's answers per (question, theme that counts for them)."""
    if answers.whole():
        found: Counter = Counter()
        for key, n in (await _themes(tx, answers)).items():
            found[(key.question_id, key.theme)] += n
        return sorted(((question_id, theme, n) for (question_id, theme), n in found.items()),
                      key=lambda row: (row[0], -row[2], row[1]))
    count = func.count()
    rows = await tx.execute(
        select(Answer.question_id, AnswerTheme.theme, count)
        .join(Answer, Answer.id == AnswerTheme.answer_id)
        .where(and_(*answers.conditions()))
        .group_by(Answer.question_id, AnswerTheme.theme)
        .order_by(Answer.question_id, count.desc(), AnswerTheme.theme))
    return [tuple(row) for row in rows]


async def theme_sources(tx: AsyncSession, answers: AnswerFilter) -> dict[str, int]:
    """Counts a filter's answers per source of their main theme (model, official,
    participant)."""
    if answers.whole():
        found: Counter = Counter()
        for key, n in (await _themes(tx, answers)).items():
            found[key.source] += n if key.main else 0
        return dict(+found)
    rows = await tx.execute(select(Answer.theme_source, func.count())
                            .where(and_(*answers.conditions()), Answer.theme.is_not(None))
                            .group_by(Answer.theme_source))
    return dict(rows.all())


async def answer_span(tx: AsyncSession, consultation_id: str,
                      question_ids: list[str]) -> tuple[datetime | None, datetime | None]:
    """Returns the first and last answer times, one index lookup per question."""
    first = last = None
    for question_id in question_ids:
        where = (Answer.consultation_id == consultation_id, Answer.question_id == question_id)
        low = await tx.scalar(select(func.min(Answer.answered_at)).where(*where))
        high = await tx.scalar(select(func.max(Answer.answered_at)).where(*where))
        if low is not None and (first is None or low < first):
            first = low
        if high is not None and (last is None or high > last):
            last = high
    return first, last


@dataclass(frozen=True)
class SentFeedback:
    """A feedback message that went out."""

    id: int
    theme: str | None
    territory: str | None
    text: str
    sent_at: datetime
    recipients: int


async def sent_feedback(tx: AsyncSession, consultation_id: str) -> list[SentFeedback]:
    """Returns the feedback messages sent for a consultation, oldest first."""
    rows = await tx.execute(
        select(FeedbackMessage.id, FeedbackMessage.theme, FeedbackMessage.territory,
               FeedbackMessage.text, FeedbackMessage.sent_at, FeedbackMessage.recipients)
        .where(FeedbackMessage.consultation_id == consultation_id,
               FeedbackMessage.sent_at.is_not(None))
        .order_by(FeedbackMessage.sent_at, FeedbackMessage.id))
    return [SentFeedback(*row) for row in rows]


async def feedback_reached(tx: AsyncSession, consultation_id: str) -> int:
    """Counts the participants to whom at least one feedback message was delivered."""
    return await tx.scalar(
        select(func.count(func.distinct(OutboxMessage.participant_id)))
        .join(FeedbackMessage, FeedbackMessage.id == OutboxMessage.feedback_id)
        .where(FeedbackMessage.consultation_id == consultation_id,
               OutboxMessage.kind == "feedback", OutboxMessage.status == SENT)) or 0

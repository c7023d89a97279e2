"""The review queue: answers for officials to confirm or correct, and their double readings."""

from dataclasses import dataclass

from sqlalchemy import exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage import labels
from storage.labels import MODEL, OFFICIAL, PARTICIPANT
from storage.tables import Answer, AnswerLabel

DOUBTFUL = "autre"  # the catch-all theme: what lands there deserves a human look


@dataclass(frozen=True)
class ToReview:
    """An answer waiting for an official's themes."""

    answer_id: int
    question_id: str
    text: str
    theme: str | None
    score: float | None
    source: str | None
    disputed: bool  # the participant said the model's theme was wrong


_COLUMNS = (Answer.id, Answer.question_id, Answer.redacted_text, Answer.theme,
            Answer.theme_score, Answer.theme_source, Answer.disputed)


def _labelled_by(actor: str):
    return exists().where(AnswerLabel.answer_id == Answer.id, AnswerLabel.source == OFFICIAL,
                          AnswerLabel.actor == actor)


async def queue(tx: AsyncSession, consultation_id: str, question_ids: list[str],
                themes: list[str], actor: str, limit: int = 15) -> list[ToReview]:
    """Returns, first, the answers whose participant said the model's theme was wrong, then
    those the model is least sure of (its catch-all theme included) or that a participant put
    in the catch-all theme; none settled by an official, labelled by this one or set aside."""
    common = (Answer.consultation_id == consultation_id, Answer.redacted_text.is_not(None),
              Answer.excluded.is_(None), ~_labelled_by(actor))
    disputed = [ToReview(*row) for row in await tx.execute(
        select(*_COLUMNS)
        .where(*common, Answer.disputed.is_(True), Answer.question_id.in_(question_ids),
               or_(Answer.theme_source.is_(None), Answer.theme_source != OFFICIAL))
        .order_by(Answer.id).limit(limit))]
    found: list[ToReview] = []
    # One short walk of the (question, theme, score) index per pair instead of sorting every
    # answer of the consultation: a million answers cost the same as a thousand.
    for question_id in question_ids:
        for theme in themes:
            rows = await tx.execute(
                select(*_COLUMNS)
                .where(*common, Answer.question_id == question_id, Answer.theme == theme,
                       Answer.theme_score.is_not(None), Answer.theme_source == MODEL,
                       Answer.disputed.is_(False))
                .order_by(Answer.theme_score, Answer.id).limit(limit))
            found += [ToReview(*row) for row in rows]
        rows = await tx.execute(
            select(*_COLUMNS)
            .where(*common, Answer.question_id == question_id, Answer.theme == DOUBTFUL,
                   # People's themes carry no score: the index skips the model's answers.
                   Answer.theme_score.is_(None), Answer.theme_source == PARTICIPANT,
                   Answer.disputed.is_(False))
            .order_by(Answer.id).limit(limit))
        found += [ToReview(*row) for row in rows]
    found.sort(key=lambda a: (a.score or 0.0, a.answer_id))
    return (disputed + found)[:limit]


async def second_readings(tx: AsyncSession, consultation_id: str, actor: str,
                          limit: int = 15) -> list[ToReview]:
    """Returns answers another official labelled and this one has not, oldest first."""
    other = aliased(AnswerLabel)
    by_another = exists().where(other.answer_id == Answer.id, other.source == OFFICIAL,
                                other.actor != actor)
    rows = await tx.execute(
        select(*_COLUMNS)
        .where(Answer.consultation_id == consultation_id, Answer.redacted_text.is_not(None),
               by_another, ~_labelled_by(actor))
        .order_by(Answer.id).limit(limit))
    return [ToReview(*row) for row in rows]


async def reviewable(tx: AsyncSession, consultation_id: str, question_ids: list[str],
                     answer_ids: list[int]) -> dict[int, list[str]]:
    """Returns the themes that count now for those of these answers that are answers to these
    (classified) questions of the consultation, the main theme first."""
    if not answer_ids:
        return {}
    found = {answer_id: [] for answer_id in await tx.scalars(
        select(Answer.id).where(Answer.id.in_(answer_ids),
                                Answer.consultation_id == consultation_id,
                                Answer.question_id.in_(question_ids)))}
    found.update({answer_id: themes for answer_id, themes
                  in (await labels.themes_of_answers(tx, list(found))).items()})
    return found


async def official_labels(tx: AsyncSession,
                          consultation_id: str) -> dict[int, list[tuple[str, str]]]:
    """Returns, per answer labelled by officials, each official's latest choice as (actor,
    themes), the themes sorted and joined by "|" (several themes are one reading), in the
    order the officials first read it."""
    rows = await tx.execute(
        select(AnswerLabel.answer_id, AnswerLabel.actor, AnswerLabel.choice,
               AnswerLabel.theme)
        .join(Answer, Answer.id == AnswerLabel.answer_id)
        .where(Answer.consultation_id == consultation_id, AnswerLabel.source == OFFICIAL)
        .order_by(AnswerLabel.answer_id, AnswerLabel.id))
    readings: dict[int, dict[str, tuple]] = {}
    for answer_id, actor, choice, theme in rows:
        # A dict keeps the first position of each actor and the latest value: a changed
        # mind replaces the earlier choice without changing who read first.
        by_actor = readings.setdefault(answer_id, {})
        before, themes = by_actor.get(actor or "", (None, ()))
        by_actor[actor or ""] = (choice, (*themes, theme) if before == choice else (theme,))
    return {answer_id: [(actor, "|".join(sorted(themes)))
                        for actor, (_, themes) in by_actor.items()]
            for answer_id, by_actor in readings.items()}


async def disputed_count(tx: AsyncSession, consultation_id: str) -> int:
    """Counts the answers whose participant disputed the theme and no official settled."""
    return await tx.scalar(
        select(func.count()).select_from(Answer)
        .where(Answer.consultation_id == consultation_id, Answer.disputed.is_(True),
               Answer.excluded.is_(None),
               or_(Answer.theme_source.is_(None), Answer.theme_source != OFFICIAL))) or 0

"""What officials choose to show of answers: answers set aside and quotes pinned to a theme."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import labels, tallies
from storage.inserts import insert_ignoring_duplicates
from storage.tables import Answer, AnswerLabel, AnswerTheme, PinnedQuote

# Why an answer is left out of counts and quotes; the admin view names them in French.
REASONS = ("hors_sujet", "test", "doublon")


@dataclass(frozen=True)
class Quote:
    """A redacted answer pinned to a theme by an official."""

    answer_id: int
    question_id: str
    theme: str
    text: str
    actor: str
    pinned_at: datetime


async def answer_facts(tx: AsyncSession, consultation_id: str,
                       answer_id: int) -> tuple[str, str | None] | None:
    """Returns (question id, reason set aside) of an answer of this consultation, or None."""
    row = (await tx.execute(select(Answer.question_id, Answer.excluded)
                            .where(Answer.id == answer_id,
                                   Answer.consultation_id == consultation_id))).first()
    return tuple(row) if row else None


async def set_aside(tx: AsyncSession, answer_id: int, reason: str | None, actor: str,
                    at: datetime) -> str | None:
    """Sets an answer aside for a reason (None brings it back); returns the reason it had."""
    if reason is not None and reason not in REASONS:
        raise ValueError(f"unknown reason {reason!r}")
    answer = (await tx.execute(select(Answer.consultation_id, Answer.excluded, Answer.session_id)
                               .where(Answer.id == answer_id))).first()
    if answer is None:
        return None
    await tallies.touch_sessions(tx, [answer.session_id])  # counted again without it
    await tx.execute(update(Answer).where(Answer.id == answer_id).values(
        excluded=reason, excluded_by=actor if reason else None,
        excluded_at=at if reason else None))
    if reason is not None:  # a quote set aside is no quote any more
        await tx.execute(delete(PinnedQuote).where(PinnedQuote.answer_id == answer_id))
    await labels.request_summaries(tx, {answer.consultation_id}, at)
    return answer.excluded


async def pin(tx: AsyncSession, answer_id: int, theme: str, actor: str, at: datetime) -> bool:
    """Pins an answer as a quote of one of the themes that count for it; False when the
    answer does not carry that theme or is set aside."""
    row = (await tx.execute(
        select(AnswerTheme.consultation_id, AnswerTheme.question_id)
        .join(Answer, Answer.id == AnswerTheme.answer_id)
        .where(AnswerTheme.answer_id == answer_id, AnswerTheme.theme == theme,
               Answer.excluded.is_(None), Answer.redacted_text.is_not(None)))).first()
    if row is None:
        return False
    await tx.execute(insert_ignoring_duplicates(
        tx, PinnedQuote.__table__,
        {"answer_id": answer_id, "theme": theme, "consultation_id": row.consultation_id,
         "question_id": row.question_id, "actor": actor, "pinned_at": at},
        ["answer_id", "theme"]))
    return True


async def unpin(tx: AsyncSession, answer_id: int, theme: str) -> bool:
    """Unpins a quote; False when it was not pinned."""
    result = await tx.execute(delete(PinnedQuote).where(PinnedQuote.answer_id == answer_id,
                                                        PinnedQuote.theme == theme))
    return bool(result.rowcount)


async def pinned(tx: AsyncSession, consultation_id: str,
                 question_id: str | None = None) -> list[Quote]:
    """Returns the pinned quotes of a consultation (or of one question), oldest pin first;
    quotes of answers no longer in that theme are left out."""
    conditions = [PinnedQuote.consultation_id == consultation_id,
                  Answer.redacted_text.is_not(None), Answer.excluded.is_(None)]
    if question_id is not None:
        conditions.append(PinnedQuote.question_id == question_id)
    rows = await tx.execute(
        select(PinnedQuote.answer_id, PinnedQuote.question_id, PinnedQuote.theme,
               Answer.redacted_text, PinnedQuote.actor, PinnedQuote.pinned_at)
        .join(Answer, Answer.id == PinnedQuote.answer_id)
        .join(AnswerTheme, (AnswerTheme.answer_id == PinnedQuote.answer_id)
              & (AnswerTheme.theme == PinnedQuote.theme))
        .where(*conditions).order_by(PinnedQuote.pinned_at, PinnedQuote.answer_id))
    return [Quote(*row) for row in rows]


async def rejected_themes(tx: AsyncSession, answer_ids: list[int]) -> dict[int, list[str]]:
    """Returns the themes participants said their answers were not about."""
    if not answer_ids:
        return {}
    rows = await tx.execute(select(AnswerLabel.answer_id, AnswerLabel.theme)
                            .where(AnswerLabel.answer_id.in_(answer_ids),
                                   AnswerLabel.negative.is_(True))
                            .order_by(AnswerLabel.id))
    found: dict[int, list[str]] = {}
    for answer_id, theme in rows:
        if theme not in found.setdefault(answer_id, []):
            found[answer_id].append(theme)
    return found

"""Theme models and the themes given to answers: by models, officials and participants."""

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import search, tallies
from storage.inserts import insert_ignoring_duplicates
from storage.tables import (
    Answer,
    AnswerLabel,
    AnswerTheme,
    SummaryRequest,
    ThemeModel,
    ThemeSummary,
)

MODEL, OFFICIAL, PARTICIPANT = "model", "official", "participant"


@dataclass(frozen=True)
class Waiting:
    """An answer waiting for the active model's theme."""

    answer_id: int
    text: str


async def register_model(tx: AsyncSession, *, version: str, consultation_id: str, path: str,
                         training_rows: int, scores: dict, at: datetime) -> None:
    """Records a trained model and makes it the consultation's active one."""
    await tx.execute(update(ThemeModel).where(ThemeModel.consultation_id == consultation_id)
                     .values(active=False))
    tx.add(ThemeModel(version=version, consultation_id=consultation_id, path=path, active=True,
                      training_rows=training_rows, scores=scores, created_at=at))


async def active_models(tx: AsyncSession) -> dict[str, ThemeModel]:
    """Returns each consultation's active model."""
    rows = await tx.scalars(select(ThemeModel).where(ThemeModel.active.is_(True)))
    return {row.consultation_id: row for row in rows}


async def waiting(tx: AsyncSession, consultation_id: str, question_ids: list[str],
                  model_version: str, limit: int) -> list[Waiting]:
    """Lists valid answers to classified questions that this model version has not labelled."""
    labelled = exists().where(AnswerLabel.answer_id == Answer.id, AnswerLabel.source == MODEL,
                              AnswerLabel.model_version == model_version)
    rows = await tx.execute(
        select(Answer.id, Answer.raw_text)
        .where(Answer.consultation_id == consultation_id, Answer.question_id.in_(question_ids),
               Answer.valid.is_(True), ~labelled)
        .order_by(Answer.id).limit(limit))
    return [Waiting(answer_id, text) for answer_id, text in rows]


async def record_model_labels(tx: AsyncSession, found: list[tuple[int, list[tuple[str, float]]]],
                              model_version: str, at: datetime) -> None:
    """Stores a model's themes: (answer id, [(theme, score), …] the likeliest first) each,
    then updates the themes that count."""
    rows = [{"answer_id": answer_id, "theme": theme, "score": score, "source": MODEL,
             "model_version": model_version, "actor": None, "created_at": at, "negative": False}
            for answer_id, themes in found for theme, score in themes]
    if rows:
        await tx.execute(AnswerLabel.__table__.insert(), rows)
        await refresh(tx, [answer_id for answer_id, _ in found])


async def record_person_label(tx: AsyncSession, answer_id: int, theme: str | list[str],
                              source: str, actor: str | None, at: datetime, *,
                              negative: bool = False) -> None:
    """Stores the themes an official chose for an answer (replacing earlier ones), or the
    participant's yes (or, `negative`, no) to one theme, then updates the themes that count."""
    themes = [theme] if isinstance(theme, str) else list(theme)
    choice = secrets.token_hex(16)
    await tx.execute(AnswerLabel.__table__.insert(), [
        {"answer_id": answer_id, "theme": t, "source": source, "score": None,
         "model_version": None, "actor": actor, "created_at": at, "negative": negative,
         "choice": choice} for t in themes])
    table = Answer.__table__
    if negative:
        await tx.execute(update(table).where(table.c.id == answer_id).values(disputed=True))
    elif source == OFFICIAL:  # an official settled it
        await tx.execute(update(table).where(table.c.id == answer_id).values(disputed=False))
    await refresh(tx, [answer_id])


@dataclass(frozen=True)
class Counted:
    """One theme that counts for an answer."""

    theme: str
    score: float | None
    source: str


def counted_themes(labels: list[AnswerLabel]) -> list[Counted]:
    """Returns the themes that count for one answer from all its labels, the main one first:
    an official's latest choice wins outright; otherwise the participant's confirmed theme,
    then the latest model's themes, less any the participant said were wrong."""
    ordered = sorted(labels, key=lambda label: label.id)
    official = [label for label in ordered if label.source == OFFICIAL]
    if official:
        last = official[-1].choice
        return [Counted(label.theme, None, OFFICIAL) for label in official
                if label.choice == last]
    rejected = {label.theme for label in ordered
                if label.source == PARTICIPANT and label.negative}
    confirmed = [label.theme for label in ordered
                 if label.source == PARTICIPANT and not label.negative]
    found = []
    if confirmed and confirmed[-1] not in rejected:
        found.append(Counted(confirmed[-1], None, PARTICIPANT))
    model = [label for label in ordered if label.source == MODEL]
    if model:
        version = model[-1].model_version
        latest = [label for label in model if label.model_version == version]
        for label in sorted(latest, key=lambda label: -(label.score or 0.0)):
            if label.theme not in rejected and label.theme not in {f.theme for f in found}:
                found.append(Counted(label.theme, label.score, MODEL))
    return found


async def refresh(tx: AsyncSession, answer_ids: list[int]) -> None:
    """Rewrites the themes that count for these answers (answer_themes and the answer's main
    theme) from their labels, in a few statements per batch."""
    answer_ids = sorted(set(answer_ids))
    if not answer_ids:
        return
    facts = {row.id: row for row in await tx.execute(
        select(Answer.id, Answer.consultation_id, Answer.question_id)
        .where(Answer.id.in_(answer_ids)))}
    by_answer: dict[int, list[AnswerLabel]] = {}
    for label in await tx.scalars(select(AnswerLabel).where(AnswerLabel.answer_id.in_(answer_ids))):
        by_answer.setdefault(label.answer_id, []).append(label)
    await tx.execute(delete(AnswerTheme).where(AnswerTheme.answer_id.in_(answer_ids)))
    themes_rows, main_rows = [], []
    for answer_id, fact in facts.items():
        found = counted_themes(by_answer.get(answer_id, []))
        themes_rows += [{"answer_id": answer_id, "theme": f.theme, "score": f.score,
                         "source": f.source, "consultation_id": fact.consultation_id,
                         "question_id": fact.question_id} for f in found]
        main = found[0] if found else None
        main_rows.append({"answer": answer_id, "label": main and main.theme,
                          "score": main and main.score, "source": main and main.source})
    if themes_rows:
        await tx.execute(AnswerTheme.__table__.insert(), themes_rows)
    table = Answer.__table__
    await tx.execute(update(table).where(table.c.id == bindparam("answer"))
                     .values(theme=bindparam("label"), theme_score=bindparam("score"),
                             theme_source=bindparam("source")), main_rows)
    await tallies.touch_answers(tx, answer_ids)


async def themes_of_answers(tx: AsyncSession, answer_ids: list[int]) -> dict[int, list[str]]:
    """Returns every theme that counts for each of these answers, the main one first."""
    if not answer_ids:
        return {}
    rows = await tx.execute(select(AnswerTheme.answer_id, AnswerTheme.theme, Answer.theme)
                            .join(Answer, Answer.id == AnswerTheme.answer_id)
                            .where(AnswerTheme.answer_id.in_(answer_ids))
                            .order_by(AnswerTheme.answer_id, AnswerTheme.score.desc(),
                                      AnswerTheme.theme))
    found: dict[int, list[str]] = {}
    for answer_id, theme, main in rows:
        themes = found.setdefault(answer_id, [])
        themes.insert(0, theme) if theme == main else themes.append(theme)
    return found


async def training_rows(tx: AsyncSession, consultation_id: str) -> list[tuple[str, str]]:
    """Returns (text, theme) that people taught: an official's latest choice for an answer
    (one row per theme), else the theme its participant confirmed. Guesses nobody checked,
    and answers set aside, never teach."""
    rows = await tx.execute(
        select(AnswerLabel, Answer.raw_text)
        .join(Answer, Answer.id == AnswerLabel.answer_id)
        .where(Answer.consultation_id == consultation_id, Answer.excluded.is_(None),
               AnswerLabel.source.in_((OFFICIAL, PARTICIPANT)))
        .order_by(AnswerLabel.id))
    by_answer: dict[int, tuple[str, list[AnswerLabel]]] = {}
    for label, text in rows:
        by_answer.setdefault(label.answer_id, (text, []))[1].append(label)
    taught = []
    for text, answer_labels in by_answer.values():
        taught += [(text, c.theme) for c in counted_themes(answer_labels)
                   if c.source in (OFFICIAL, PARTICIPANT)]
    return taught


async def set_redacted(tx: AsyncSession, redacted: list[tuple[int, str]]) -> None:
    """Stores the redacted form of answers: (answer id, text) each."""
    table = Answer.__table__
    if redacted:
        await tx.execute(update(table).where(table.c.id == bindparam("answer")).values(
            redacted_text=bindparam("text"), search_text=bindparam("folded")),
            [{"answer": a, "text": t, "folded": search.fold(t)} for a, t in redacted])


async def unredacted(tx: AsyncSession, question_ids_by_consultation: dict[str, list[str]],
                     limit: int, prefix: str | None = None) -> list[Waiting]:
    """Lists free-text answers not yet redacted: to these questions, or to any question whose
    id starts with `prefix` (replies to feedback)."""
    conditions = [and_(Answer.consultation_id == c, Answer.question_id.in_(q))
                  for c, q in question_ids_by_consultation.items() if q]
    if prefix:
        # A range rather than LIKE, so that both databases walk the index.
        after = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        conditions += [and_(Answer.consultation_id == c, Answer.question_id >= prefix,
                            Answer.question_id < after) for c in question_ids_by_consultation]
    if not conditions:
        return []
    rows = await tx.execute(select(Answer.id, Answer.raw_text)
                            .where(Answer.redacted_text.is_(None), or_(*conditions))
                            .order_by(Answer.id).limit(limit))
    return [Waiting(answer_id, text) for answer_id, text in rows]


@dataclass(frozen=True)
class Labelled:
    """A redacted answer in one of the themes that count for it."""

    answer_id: int
    question_id: str
    theme: str
    score: float | None  # the model's probability; None when a person chose the theme
    text: str


async def labelled_answers(tx: AsyncSession, consultation_id: str,
                           limit: int = 20_000) -> list[Labelled]:
    """Returns the latest redacted answers in each theme that counts for them, newest first;
    answers set aside are left out."""
    rows = await tx.execute(
        select(Answer.id, Answer.question_id, AnswerTheme.theme, AnswerTheme.score,
               Answer.redacted_text)
        .join(AnswerTheme, AnswerTheme.answer_id == Answer.id)
        .where(Answer.consultation_id == consultation_id, Answer.redacted_text.is_not(None),
               Answer.excluded.is_(None))
        .order_by(Answer.id.desc()).limit(limit))
    return [Labelled(*row) for row in rows]


async def save_summaries(tx: AsyncSession, consultation_id: str, model_version: str,
                         summaries: dict[tuple[str, str], tuple[int, list, list[int]]],
                         at: datetime) -> None:
    """Replaces a consultation's theme summaries: (question, theme) → (answers, terms,
    ids of typical answers)."""
    await tx.execute(delete(ThemeSummary).where(ThemeSummary.consultation_id == consultation_id))
    for (question_id, theme), (count, terms, examples) in summaries.items():
        tx.add(ThemeSummary(consultation_id=consultation_id, question_id=question_id,
                            theme=theme, answers=count, terms=terms, examples=examples,
                            model_version=model_version, computed_at=at))


async def summaries_of(tx: AsyncSession, consultation_id: str) -> list[ThemeSummary]:
    """Returns a consultation's theme summaries, the most frequent themes first."""
    return list(await tx.scalars(
        select(ThemeSummary).where(ThemeSummary.consultation_id == consultation_id)
        .order_by(ThemeSummary.question_id, ThemeSummary.answers.desc())))


async def forget_summaries(tx: AsyncSession, consultation_ids: set[str], at: datetime) -> None:
    """Deletes these consultations' summaries at once (their terms may hold words of answers
    that are gone) and asks the worker to compute them again."""
    if not consultation_ids:
        return
    await tx.execute(delete(ThemeSummary)
                     .where(ThemeSummary.consultation_id.in_(consultation_ids)))
    await request_summaries(tx, consultation_ids, at)


async def request_summaries(tx: AsyncSession, consultation_ids: set[str], at: datetime) -> None:
    """Asks the worker to compute these consultations' summaries again."""
    if consultation_ids:
        await tx.execute(insert_ignoring_duplicates(
            tx, SummaryRequest.__table__,
            [{"consultation_id": c, "requested_at": at} for c in sorted(consultation_ids)],
            ["consultation_id"]))


async def summary_requests(tx: AsyncSession) -> dict[str, datetime]:
    """Returns the consultations whose summaries wait to be computed again, and since when."""
    return dict((await tx.execute(select(SummaryRequest.consultation_id,
                                         SummaryRequest.requested_at))).all())


async def clear_summary_request(tx: AsyncSession, consultation_id: str,
                                requested_at: datetime) -> None:
    """Marks a request done, unless a newer one came meanwhile."""
    await tx.execute(delete(SummaryRequest).where(
        SummaryRequest.consultation_id == consultation_id,
        SummaryRequest.requested_at <= requested_at))


async def quotes(tx: AsyncSession, answer_ids: list[int]) -> dict[int, str]:
    """Returns the redacted text of these answers that still exist and are not set aside."""
    if not answer_ids:
        return {}
    rows = await tx.execute(select(Answer.id, Answer.redacted_text)
                            .where(Answer.id.in_(answer_ids), Answer.redacted_text.is_not(None),
                                   Answer.excluded.is_(None)))
    return dict(rows.all())

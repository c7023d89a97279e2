"""Theme models and the themes given to answers: by models, officials and participants."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.tables import Answer, AnswerLabel, ThemeModel, ThemeSummary

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


async def record_model_labels(tx: AsyncSession, labels: list[tuple[int, str, float]],
                              model_version: str, at: datetime) -> None:
    """Stores a model's themes: (answer id, theme, score) each."""
    if labels:
        await tx.execute(AnswerLabel.__table__.insert(), [
            {"answer_id": answer_id, "theme": theme, "score": score, "source": MODEL,
             "model_version": model_version, "actor": None, "created_at": at}
            for answer_id, theme, score in labels])
        # A model's theme counts only where no person gave one.
        table = Answer.__table__
        await tx.execute(
            update(table).where(table.c.id == bindparam("answer"),
                                or_(table.c.theme_source.is_(None),
                                    table.c.theme_source == MODEL))
            .values(theme=bindparam("label"), theme_score=bindparam("score"),
                    theme_source=MODEL),
            [{"answer": a, "label": t, "score": s} for a, t, s in labels])


async def record_person_label(tx: AsyncSession, answer_id: int, theme: str, source: str,
                              actor: str | None, at: datetime) -> None:
    """Stores a theme confirmed or corrected by an official, or confirmed by the participant."""
    tx.add(AnswerLabel(answer_id=answer_id, theme=theme, source=source, actor=actor,
                       created_at=at))
    # An official's theme wins over everything; a participant's over the model's.
    overridable = (None, MODEL, PARTICIPANT, OFFICIAL) if source == OFFICIAL \
        else (None, MODEL, PARTICIPANT)
    table = Answer.__table__
    source_column = table.c.theme_source
    allowed = or_(source_column.is_(None), source_column.in_([s for s in overridable if s]))
    await tx.execute(update(table).where(table.c.id == answer_id, allowed)
                     .values(theme=theme, theme_score=None, theme_source=source))


async def training_rows(tx: AsyncSession, consultation_id: str) -> list[tuple[str, str]]:
    """Returns (text, theme) taught by people: an official's latest label wins over the
    participant's."""
    latest = (select(AnswerLabel.answer_id, AnswerLabel.source,
                     func.max(AnswerLabel.id).label("last"))
              .where(AnswerLabel.source.in_((OFFICIAL, PARTICIPANT)))
              .group_by(AnswerLabel.answer_id, AnswerLabel.source).subquery())
    rows = await tx.execute(
        select(Answer.id, Answer.raw_text, AnswerLabel.theme, AnswerLabel.source)
        .join(latest, latest.c.answer_id == Answer.id)
        .join(AnswerLabel, AnswerLabel.id == latest.c.last)
        .where(Answer.consultation_id == consultation_id))
    taught: dict[int, tuple[str, str, str]] = {}
    for answer_id, text, theme, source in rows:
        if answer_id not in taught or source == OFFICIAL:
            taught[answer_id] = (text, theme, source)
    return [(text, theme) for text, theme, _ in taught.values()]


async def set_redacted(tx: AsyncSession, redacted: list[tuple[int, str]]) -> None:
    """Stores the redacted form of answers: (answer id, text) each."""
    table = Answer.__table__
    if redacted:
        await tx.execute(update(table).where(table.c.id == bindparam("answer")).values(
            redacted_text=bindparam("text")), [{"answer": a, "text": t} for a, t in redacted])


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
    """A redacted answer with the theme the active model gave it."""

    question_id: str
    theme: str
    score: float
    text: str


async def labelled_answers(tx: AsyncSession, consultation_id: str, model_version: str,
                           limit: int = 20_000) -> list[Labelled]:
    """Returns the latest redacted answers with this model's theme, newest first."""
    rows = await tx.execute(
        select(Answer.question_id, AnswerLabel.theme, AnswerLabel.score, Answer.redacted_text)
        .join(AnswerLabel, and_(AnswerLabel.answer_id == Answer.id,
                                AnswerLabel.source == MODEL,
                                AnswerLabel.model_version == model_version))
        .where(Answer.consultation_id == consultation_id, Answer.redacted_text.is_not(None))
        .order_by(Answer.id.desc()).limit(limit))
    return [Labelled(*row) for row in rows]


async def save_summaries(tx: AsyncSession, consultation_id: str, model_version: str,
                         summaries: dict[tuple[str, str], tuple[int, list, list]],
                         at: datetime) -> None:
    """Replaces a consultation's theme summaries: (question, theme) → (answers, terms,
    examples)."""
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

"""What the public follow-up page reads: themes' shares, public actions and their story."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import plan, plan_indicators
from storage.answer_queries import AnswerFilter
from storage.indicators import classified_answers, theme_totals
from storage.plan_tables import Action, Indicator, Measurement, Milestone


@dataclass(frozen=True)
class PublicAction:
    """A public action as citizens read it: no author, no account, no comment."""

    id: int
    title: str
    description: str
    status: str  # the status's French name
    progress: int | None
    starts_on: object
    ends_on: object
    themes: list[str]
    milestones: list[Milestone]


@dataclass(frozen=True)
class FollowUp:
    """One consultation's follow-up: what people said, what was decided, since when."""

    answers: int  # classified answers of the open questions
    themes: dict[str, int]  # theme id → answers that raise it
    actions: list[PublicAction]
    # Each indicator of the consultation with its latest validated measurement, if any.
    indicators: list[tuple[Indicator, Measurement | None]]
    updated_at: datetime | None


async def follow_up(tx: AsyncSession, consultation_id: str, question_ids: list[str],
                    hidden_channels: tuple[str, ...]) -> FollowUp:
    """Reads a consultation's follow-up; only public actions that were not declined or
    merged appear."""
    answers = AnswerFilter(consultation_id, hidden_channels=hidden_channels)
    themes = await theme_totals(tx, answers, question_ids) if question_ids else {}
    total = await classified_answers(tx, answers, question_ids) if question_ids else 0
    every = await plan.actions(tx, consultation_id)
    statuses = await plan.statuses(tx)
    progress = plan.progress(every, statuses)
    shown = [row for row, _depth in plan.tree_order(every)
             if row.public and row.decision not in ("merged", "declined")]
    ids = [row.id for row in shown]
    linked = await plan.themes_of(tx, ids)
    milestones = await plan.milestones_of(tx, ids)
    actions = [PublicAction(
        row.id, row.title, row.description,
        statuses[row.status].name if row.status in statuses else row.status,
        None if progress.get(row.id) is None else round(progress[row.id]),
        row.starts_on, row.ends_on, linked.get(row.id, []), milestones.get(row.id, []))
        for row in shown]
    rows = await plan_indicators.indicators(tx, consultation_id)
    measured = await plan_indicators.measurements(tx, [row.id for row in rows],
                                                  validated_only=True)
    indicators = [(row, measured[row.id][-1] if measured.get(row.id) else None)
                  for row in rows]
    updated = max([row.updated_at for row in shown]
                  + [m.validated_at for _, m in indicators if m is not None], default=None)
    return FollowUp(total or 0, themes, actions, indicators, updated)


async def public_counts(tx: AsyncSession) -> dict[str, tuple[int, datetime | None]]:
    """Returns, per consultation, how many public actions it shows and when one last
    changed."""
    rows = await tx.execute(
        select(Action.consultation_id, func.count(), func.max(Action.updated_at))
        .where(Action.public.is_(True), Action.consultation_id.is_not(None),
               or_(Action.decision.is_(None), Action.decision == "accepted"))
        .group_by(Action.consultation_id))
    return {consultation: (count, at) for consultation, count, at in rows}

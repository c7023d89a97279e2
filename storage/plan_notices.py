"""Messages that told participants what became of an action ("vous avez dit, nous avons
fait"): feedback messages carrying the action, with the feedback's counts."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import feedback
from storage.tables import FeedbackMessage


async def sent(tx: AsyncSession, consultation_id: str,
               action_id: int | None = None) -> list[tuple[int, feedback.Sent]]:
    """Returns (action id, feedback sent with its counts) of a consultation's notifications
    about actions (or one action's), newest first."""
    query = select(FeedbackMessage.id, FeedbackMessage.action_id).where(
        FeedbackMessage.consultation_id == consultation_id,
        FeedbackMessage.action_id.is_not(None))
    if action_id is not None:
        query = query.where(FeedbackMessage.action_id == action_id)
    actions = dict((await tx.execute(query)).all())
    if not actions:
        return []
    return [(actions[s.id], s) for s in await feedback.history(tx, consultation_id)
            if s.id in actions]

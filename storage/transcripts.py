"""A participant's conversation as it was exchanged, for the local simulator."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.tables import InboundMessage, OutboxMessage


@dataclass(frozen=True)
class Line:
    """One message of a conversation."""

    from_participant: bool
    text: str
    at: datetime
    choices: list
    question: str | None = None  # the step its choices answer


async def transcript(tx: AsyncSession, participant_id: int, limit: int = 200) -> list[Line]:
    """Returns the last messages in both directions, oldest first."""
    inbound = await tx.execute(
        select(InboundMessage.id, InboundMessage.text, InboundMessage.received_at)
        .where(InboundMessage.participant_id == participant_id)
        .order_by(InboundMessage.id.desc()).limit(limit))
    replies = await tx.execute(
        select(OutboxMessage.inbound_id, OutboxMessage.position, OutboxMessage.text,
               OutboxMessage.created_at, OutboxMessage.choices, OutboxMessage.question_id)
        .where(OutboxMessage.participant_id == participant_id,
               OutboxMessage.status == "sent")
        .order_by(OutboxMessage.id.desc()).limit(limit))
    # A reply sorts right after the message it answers.
    keyed = [((i, -1), Line(True, text, at, [])) for i, text, at in inbound]
    keyed += [((i or 0, position), Line(False, text, at, choices or [], question))
              for i, position, text, at, choices, question in replies]
    return [line for _, line in sorted(keyed, key=lambda item: item[0])][-limit:]

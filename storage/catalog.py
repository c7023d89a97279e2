"""The consultations known to the database, as published from their files."""

import hashlib
import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.tables import Consultation


async def publish(tx: AsyncSession, *, consultation_id: str, title: str, audience: str,
                  version: int, retention_days: int, definition: dict, at: datetime) -> bool:
    """Stores or updates a consultation's definition; returns True when it changed."""
    checksum = hashlib.sha256(json.dumps(definition, sort_keys=True, ensure_ascii=False)
                              .encode()).hexdigest()
    row = await tx.get(Consultation, consultation_id)
    if row is not None and row.checksum == checksum:
        return False
    if row is None:
        row = Consultation(id=consultation_id)
        tx.add(row)
    row.title, row.audience, row.version = title, audience, version
    row.retention_days, row.definition = retention_days, definition
    row.checksum, row.loaded_at = checksum, at
    return True


async def consultations(tx: AsyncSession) -> list[Consultation]:
    """Returns every published consultation, by title."""
    return list(await tx.scalars(select(Consultation).order_by(Consultation.title)))


async def consultation(tx: AsyncSession, consultation_id: str) -> Consultation | None:
    """Returns one published consultation, or None."""
    return await tx.get(Consultation, consultation_id)

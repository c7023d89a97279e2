"""The audit log: one row per action of an operator, an official or the system."""

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.tables import AuditEntry


def record(tx: AsyncSession, *, actor: str, action: str, at: datetime,
           target: str | None = None, details: dict | None = None) -> None:
    """Adds an entry; it commits with the caller's transaction, so it exists iff the action does."""
    tx.add(AuditEntry(actor=actor, action=action, target=target, details=details or {}, at=at))


def _matching(prefix: str):
    query = select(AuditEntry)
    if prefix:
        query = query.where(AuditEntry.action.startswith(prefix, autoescape=True))
    return query


async def entries(tx: AsyncSession, prefix: str = "", offset: int = 0,
                  limit: int = 50) -> list[AuditEntry]:
    """Returns a page of entries whose action starts with a prefix, newest first."""
    return list(await tx.scalars(_matching(prefix)
                                 .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                                 .offset(offset).limit(limit)))


async def count(tx: AsyncSession, prefix: str = "") -> int:
    """Counts the entries whose action starts with a prefix."""
    return await tx.scalar(select(func.count()).select_from(_matching(prefix).subquery())) or 0


async def actions(tx: AsyncSession) -> list[str]:
    """Returns the distinct actions found in the log, sorted."""
    return list(await tx.scalars(select(AuditEntry.action).distinct()
                                 .order_by(AuditEntry.action)))

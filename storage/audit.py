"""The audit log: one row per action of an operator, an official or the system."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.tables import AuditEntry


def record(tx: AsyncSession, *, actor: str, action: str, at: datetime,
           target: str | None = None, details: dict | None = None) -> None:
    """Adds an entry; it commits with the caller's transaction, so it exists iff the action does."""
    tx.add(AuditEntry(actor=actor, action=action, target=target, details=details or {}, at=at))

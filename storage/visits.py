"""When each person last opened a page, so that what came since can be marked "nouveau"."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.inserts import upsert
from storage.tables import AdminVisit


async def last_seen(tx: AsyncSession, user_id: int, pages: list[str]) -> dict[str, datetime]:
    """Returns when the person last opened each of these pages (those they ever opened)."""
    rows = await tx.execute(select(AdminVisit.page, AdminVisit.seen_at)
                            .where(AdminVisit.user_id == user_id, AdminVisit.page.in_(pages)))
    return dict(rows.all())


async def record(tx: AsyncSession, user_id: int, page: str, at: datetime) -> None:
    """Records that the person opened a page now."""
    await tx.execute(upsert(tx, AdminVisit.__table__, ("user_id", "page"), ("seen_at",)),
                     {"user_id": user_id, "page": page[:200], "seen_at": at})

"""INSERT … ON CONFLICT DO NOTHING for both supported databases."""

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

_DIALECTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def insert_ignoring_duplicates(tx: AsyncSession, table: Any, values: dict,
                               unique: list[str]):
    """Returns an INSERT that does nothing when `unique` columns already hold these values."""
    insert = _DIALECTS[tx.bind.dialect.name]
    return insert(table).values(**values).on_conflict_do_nothing(index_elements=unique)

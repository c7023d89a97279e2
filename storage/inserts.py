"""INSERT … ON CONFLICT DO NOTHING for both supported databases."""

from functools import lru_cache
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

_DIALECTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def insert_ignoring_duplicates(tx: AsyncSession, table: Any, values: dict | list[dict] | None,
                               unique: list[str]):
    """Returns an INSERT skipping rows whose `unique` columns exist; without values, the
    statement takes its rows at execution."""
    statement = _DIALECTS[tx.bind.dialect.name](table)
    if values is not None:
        statement = statement.values(values)
    return statement.on_conflict_do_nothing(index_elements=unique)


def upsert(tx: AsyncSession, table: Any, unique: tuple[str, ...], update: tuple[str, ...]):
    """Returns an INSERT, to run with values, that updates `update` when the row exists."""
    return _upsert(tx.bind.dialect.name, table, unique, update)


@lru_cache(maxsize=32)
def _upsert(dialect: str, table: Any, unique: tuple[str, ...], update: tuple[str, ...]):
    # Built once: `excluded` copies the table's columns, which costs more than the write.
    statement = _DIALECTS[dialect](table)
    return statement.on_conflict_do_update(
        index_elements=list(unique), set_={name: statement.excluded[name] for name in update})

"""Alembic environment: runs migrations on a connection Relais hands over, or on the URL."""

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from storage import search
from storage.database import async_url
from storage.tables import Base, UTCDateTime

config = context.config
target_metadata = Base.metadata


def _render_item(kind: str, item, _autogen_context):
    # Migrations must not import the models: render our UTC type as the plain column type.
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite",
                      compare_type=True, render_item=_render_item,
                      include_object=search.include_object)
    with context.begin_transaction():
        context.run_migrations()


async def _run_on_url(url: str) -> None:
    engine = create_async_engine(async_url(url), poolclass=NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_on_url(config.get_main_option("sqlalchemy.url")))

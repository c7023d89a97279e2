"""text search in answers: a folded copy of the redacted text, indexed (FTS5 on SQLite,
trigrams on PostgreSQL)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE = [
    "CREATE VIRTUAL TABLE answers_search USING fts5(search_text, content='answers', "
    "content_rowid='id')",
    "CREATE TRIGGER answers_search_insert AFTER INSERT ON answers BEGIN "
    "INSERT INTO answers_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER answers_search_delete AFTER DELETE ON answers BEGIN "
    "INSERT INTO answers_search(answers_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER answers_search_update AFTER UPDATE OF search_text ON answers BEGIN "
    "INSERT INTO answers_search(answers_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO answers_search(rowid, search_text) VALUES (new.id, new.search_text); END",
]


def _fold(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value.lower().replace("œ", "oe"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def upgrade() -> None:
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=True))
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        for statement in SQLITE:
            op.execute(statement)
    else:
        # pg_trgm is a trusted extension: the database's owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_answers_search_trgm ON answers "
                   "USING gin (search_text gin_trgm_ops)")
    answers = sa.table('answers', sa.column('id', sa.Integer),
                       sa.column('redacted_text', sa.Text), sa.column('search_text', sa.Text))
    after = 0
    while True:
        rows = connection.execute(
            sa.select(answers.c.id, answers.c.redacted_text)
            .where(answers.c.id > after, answers.c.redacted_text.is_not(None))
            .order_by(answers.c.id).limit(5000)).all()
        if not rows:
            break
        connection.execute(answers.update().where(answers.c.id == sa.bindparam("answer"))
                           .values(search_text=sa.bindparam("folded")),
                           [{"answer": i, "folded": _fold(t)} for i, t in rows])
        after = rows[-1][0]


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        for name in ("answers_search_insert", "answers_search_delete", "answers_search_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS answers_search")
    else:
        op.execute("DROP INDEX IF EXISTS ix_answers_search_trgm")
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_column('search_text')

"""running counts of the themes that count for answers, per day, read by the admin pages

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'tally_themes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('consultation_id', sa.String(length=40), nullable=False),
        sa.Column('day', sa.Date(), nullable=True),
        sa.Column('channel', sa.String(length=20), nullable=True),
        sa.Column('question_id', sa.String(length=40), nullable=False),
        sa.Column('theme', sa.String(length=40), nullable=False),
        sa.Column('source', sa.String(length=12), nullable=False),
        sa.Column('main', sa.Boolean(), nullable=False),
        sa.Column('answers', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tally_themes')))
    op.create_index('ix_tally_themes_consultation_day', 'tally_themes',
                    ['consultation_id', 'day'])
    # The themes were never counted: every consultation is counted afresh at the worker's
    # next pass, and pages count from the rows until then.
    for table in ('tally_marks', 'tally_sessions', 'tally_answers', 'tally_state'):
        op.execute(f"DELETE FROM {table}")


def downgrade() -> None:
    op.drop_index('ix_tally_themes_consultation_day', table_name='tally_themes')
    op.drop_table('tally_themes')

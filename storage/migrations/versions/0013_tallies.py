"""running counts of sessions and answers per day, read by the admin pages

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'tally_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('consultation_id', sa.String(length=40), nullable=False),
        sa.Column('day', sa.Date(), nullable=True),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('association_id', sa.Integer(), nullable=True),
        sa.Column('territory', sa.String(length=12), nullable=True),
        sa.Column('age_band', sa.String(length=20), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('went_on', sa.Boolean(), nullable=False),
        sa.Column('feedback_opt_in', sa.Boolean(), nullable=True),
        sa.Column('sessions', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tally_sessions')))
    op.create_index('ix_tally_sessions_consultation_day', 'tally_sessions',
                    ['consultation_id', 'day'])
    op.create_table(
        'tally_answers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('consultation_id', sa.String(length=40), nullable=False),
        sa.Column('day', sa.Date(), nullable=True),
        sa.Column('channel', sa.String(length=20), nullable=True),
        sa.Column('question_id', sa.String(length=40), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.Column('valid', sa.Boolean(), nullable=False),
        sa.Column('answers', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tally_answers')))
    op.create_index('ix_tally_answers_consultation_day', 'tally_answers',
                    ['consultation_id', 'day'])
    op.create_table(
        'tally_state',
        sa.Column('consultation_id', sa.String(length=40), nullable=False),
        sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('passes', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('consultation_id', name=op.f('pk_tally_state')))
    op.create_table(
        'tally_marks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('consultation_id', sa.String(length=40), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('marked_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tally_marks')))
    op.create_index('ix_tally_marks_consultation', 'tally_marks', ['consultation_id'])


def downgrade() -> None:
    op.drop_table('tally_marks')
    op.drop_table('tally_state')
    op.drop_index('ix_tally_answers_consultation_day', table_name='tally_answers')
    op.drop_table('tally_answers')
    op.drop_index('ix_tally_sessions_consultation_day', table_name='tally_sessions')
    op.drop_table('tally_sessions')

"""indexes for double reading, the sessions-over-time count and exports

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.create_index('ix_answers_consultation_id', ['consultation_id', 'id'],
                              unique=False)
    with op.batch_alter_table('answer_labels', schema=None) as batch_op:
        batch_op.create_index('ix_answer_labels_source_actor', ['source', 'actor'], unique=False)
    with op.batch_alter_table('consultation_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_sessions_consultation_started')
        batch_op.create_index('ix_sessions_consultation_started',
                              ['consultation_id', 'started_at', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('consultation_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_sessions_consultation_started')
        batch_op.create_index('ix_sessions_consultation_started',
                              ['consultation_id', 'started_at'], unique=False)
    with op.batch_alter_table('answer_labels', schema=None) as batch_op:
        batch_op.drop_index('ix_answer_labels_source_actor')
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_index('ix_answers_consultation_id')

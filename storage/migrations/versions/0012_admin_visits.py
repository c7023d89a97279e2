"""when each person last opened a page of the admin view

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'admin_visits',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('page', sa.String(length=200), nullable=False),
        sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['admin_users.id'],
                                name=op.f('fk_admin_visits_user_id_admin_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'page', name=op.f('pk_admin_visits')))


def downgrade() -> None:
    op.drop_table('admin_visits')

"""failed sign-ins counted under a keyed hash: forget the unsalted digests of typed e-mails

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Failures were counted under the plain SHA-256 of whatever was typed as the e-mail, and
    # the journal kept its first 16 digits: a password typed in that field could be found
    # again offline. The failures count for an hour at most, so they are simply forgotten;
    # the journal keeps its entries without the digest.
    op.execute(sa.text("DELETE FROM login_failures WHERE key LIKE 'account:%'"))
    op.execute(sa.text("UPDATE audit_log SET target = NULL "
                       "WHERE action = 'login.failed' AND length(target) = 16"))


def downgrade() -> None:
    pass  # nothing to restore: the digests are gone for good

"""An index on when refreshes finished: every request reads the newest one (the store's
stamp, see `server.board`), which must not cost a scan of every refresh ever run.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_refreshes_finished_at", "refreshes", ["finished_at"])


def downgrade() -> None:
    op.drop_index("ix_refreshes_finished_at", "refreshes")

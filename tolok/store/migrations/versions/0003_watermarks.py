"""Dataset watermarks for incremental refresh.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "watermarks",
        sa.Column("dataset", sa.String(200), primary_key=True),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("refresh_id", sa.Integer(), sa.ForeignKey("refreshes.id"), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("watermarks")

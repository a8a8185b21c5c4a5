"""Snapshots: a current-state dataset's measures as of each refresh, its only history.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "snapshots",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("signature", sa.String(64), nullable=False),
        sa.Column("dataset", sa.String(200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("slice", sa.String(1000), nullable=False),
        sa.Column("measures", sa.Text(), nullable=False),
        sa.Column("refresh_id", sa.Integer(), sa.ForeignKey("refreshes.id"), nullable=False),
        sa.UniqueConstraint("signature", "day", "slice"),
    )
    op.create_index("ix_snapshots_dataset", "snapshots", ["dataset"])


def downgrade() -> None:
    op.drop_index("ix_snapshots_dataset", "snapshots")
    op.drop_table("snapshots")

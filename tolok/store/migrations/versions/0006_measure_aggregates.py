"""Measure aggregates kept between refreshes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "measure_aggregates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("signature", sa.String(64), nullable=False),
        sa.Column("dataset", sa.String(200), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("slice", sa.String(1000), nullable=False),
        sa.Column("measures", sa.Text(), nullable=False),
        sa.Column("refresh_id", sa.Integer(), sa.ForeignKey("refreshes.id"), nullable=False),
        sa.UniqueConstraint("signature", "period", "slice"),
    )
    op.create_index("ix_measure_aggregates_dataset", "measure_aggregates", ["dataset"])


def downgrade() -> None:
    op.drop_index("ix_measure_aggregates_dataset", "measure_aggregates")
    op.drop_table("measure_aggregates")

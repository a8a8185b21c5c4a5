"""Targets set by people.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person_targets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kpi", sa.String(200), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("slice", sa.String(1000), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("set_by", sa.String(200), nullable=False),
        sa.Column("set_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("kpi", "period", "slice"),
    )
    op.create_index("ix_person_targets_kpi", "person_targets", ["kpi"])


def downgrade() -> None:
    op.drop_index("ix_person_targets_kpi", "person_targets")
    op.drop_table("person_targets")

"""Results, reported results, definition versions and refresh runs.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "spec_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kpi", sa.String(200), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("compute_hash", sa.String(64), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("diff", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("kpi", "number"),
    )
    op.create_index("ix_spec_versions_kpi", "spec_versions", ["kpi"])
    op.create_table(
        "refreshes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
    )
    for table, extra in (("results", "refresh"), ("reported_results", None)):
        columns: list[sa.schema.SchemaItem] = [
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("kpi", sa.String(200), nullable=False),
            sa.Column("grain", sa.String(20), nullable=False),
            sa.Column("breakdown", sa.String(400), nullable=False),
            sa.Column("period", sa.Date(), nullable=False),
            sa.Column("slice", sa.String(1000), nullable=False),
            sa.Column("value", sa.Float(), nullable=True),
            sa.Column(
                "version_id", sa.Integer(), sa.ForeignKey("spec_versions.id"), nullable=False
            ),
        ]
        unique = ["kpi", "grain", "breakdown", "period", "slice"]
        if extra:
            columns.append(
                sa.Column("refresh_id", sa.Integer(), sa.ForeignKey("refreshes.id"), nullable=False)
            )
        else:
            unique.append("version_id")
        columns.append(sa.Column("computed_at", sa.DateTime(), nullable=False))
        op.create_table(table, *columns, sa.UniqueConstraint(*unique))
    op.create_index("ix_results_series", "results", ["kpi", "grain", "breakdown"])
    op.create_index("ix_reported_series", "reported_results", ["kpi", "grain", "breakdown"])


def downgrade() -> None:
    op.drop_index("ix_reported_series", "reported_results")
    op.drop_table("reported_results")
    op.drop_index("ix_results_series", "results")
    op.drop_table("results")
    op.drop_table("refreshes")
    op.drop_index("ix_spec_versions_kpi", "spec_versions")
    op.drop_table("spec_versions")

"""Sign-in attempts in the store: the limits per account and per address hold across every
server process (`tolok serve --workers N`, or several servers) on one store.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signin_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_signin_attempts_key", "signin_attempts", ["key"])
    op.create_index("ix_signin_attempts_at", "signin_attempts", ["at"])


def downgrade() -> None:
    op.drop_index("ix_signin_attempts_at", "signin_attempts")
    op.drop_index("ix_signin_attempts_key", "signin_attempts")
    op.drop_table("signin_attempts")

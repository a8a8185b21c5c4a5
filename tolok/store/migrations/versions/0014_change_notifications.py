"""On PostgreSQL, what moves the board's stamp (a refresh finishing, an audited write) is
announced with `NOTIFY tolok_changes`, by whichever process wrote it: every server worker
listening (`tolok.server.changes`) hears it at once and tells its open streams of events.
SQLite has no such thing: a server on it looks at the stamp each second instead.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "tolok_changes"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"""
        CREATE FUNCTION tolok_announce_change() RETURNS trigger AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
            RETURN NULL;
        END
        $$ LANGUAGE plpgsql
    """)
    op.execute("""
        CREATE TRIGGER tolok_refresh_finished AFTER UPDATE OF finished_at ON refreshes
        FOR EACH ROW WHEN (NEW.finished_at IS DISTINCT FROM OLD.finished_at)
        EXECUTE FUNCTION tolok_announce_change()
    """)
    op.execute("""
        CREATE TRIGGER tolok_audited AFTER INSERT ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION tolok_announce_change()
    """)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS tolok_audited ON audit_log")
    op.execute("DROP TRIGGER IF EXISTS tolok_refresh_finished ON refreshes")
    op.execute("DROP FUNCTION IF EXISTS tolok_announce_change()")

#!/bin/sh
# tolok for a team: check the project, bring the store up to date, then serve.
# The container image runs this as its entry point and the systemd unit as its command;
# tests/deploy/test_entrypoint.py runs it as a plain process, as `bash .ci/run` does when no
# container engine is there.
#
#   TOLOK_PROJECT          the project folder (holding tolok.yaml)   default /srv/tolok/project
#   TOLOK_HOST, TOLOK_PORT where to listen                           default 0.0.0.0, 8000
#   TOLOK_SECURE=1         cookies only over HTTPS (behind a TLS proxy)
#   TOLOK_TRUSTED_PROXIES  the proxy's address: X-Forwarded-* are honoured from it only
#   PGPASSWORD             the store's password (or a ~/.pgpass): keep it out of tolok.yaml
set -eu

project="${TOLOK_PROJECT:-/srv/tolok/project}"
tolok="${TOLOK_BIN:-tolok}"

if [ ! -f "$project/tolok.yaml" ]; then
    echo "tolok: no tolok.yaml in $project (mount the project there, or set TOLOK_PROJECT)" >&2
    exit 2
fi
# A project that does not validate is said now, with its file and line, not at the first page.
"$tolok" validate "$project"
# A PostgreSQL store is migrated on purpose; the SQLite one upgrades itself. Both are safe to
# run at every start: an up-to-date store is left as it is.
"$tolok" db upgrade "$project"
exec "$tolok" serve "$project" --host "${TOLOK_HOST:-0.0.0.0}" --port "${TOLOK_PORT:-8000}"

#!/bin/sh
# Restore a backup made by deploy/backup.sh: the store's dump into an EMPTY PostgreSQL
# database, and the project archive into an empty folder; then bring the store up to this
# tolok's revision. tests/deploy/test_backup_restore.py runs it and checks the board.
#
#   deploy/restore.sh STORE_DUMP PROJECT_ARCHIVE EMPTY_STORE_URL PROJECT_DIR
#
# Create the database first (createdb, or the compose file's db service on a new volume). When
# it is not where the old one was, change `store:` in the restored tolok.yaml to it: this script
# says so. The password comes from PGPASSWORD or ~/.pgpass.
set -eu

if [ $# -ne 4 ]; then
    echo "usage: $0 STORE_DUMP PROJECT_ARCHIVE EMPTY_STORE_URL PROJECT_DIR" >&2
    exit 2
fi
dump="$1"
archive="$2"
store="$3"
project="$4"
tolok="${TOLOK_BIN:-tolok}"

tables="$(psql --no-psqlrc --tuples-only --no-align --dbname="$store" \
    --command="select count(*) from information_schema.tables where table_schema = 'public'")"
if [ "$tables" != "0" ]; then
    echo "$0: $store already holds $tables tables: restore into an empty database" >&2
    exit 1
fi
mkdir -p "$project"
if [ -n "$(ls -A "$project")" ]; then
    echo "$0: $project is not empty: restore the project into an empty folder" >&2
    exit 1
fi
# One transaction: a restore that fails leaves the database empty, not half-filled.
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction \
    --dbname="$store" "$dump"
tar --extract --gzip --file="$archive" --directory="$project"
written="$(sed -n 's/^store:[[:space:]]*//p' "$project/tolok.yaml")"
echo "restored: the store into $store, the project into $project"
echo "tolok.yaml names the store: ${written:-sqlite:///tolok.db (the default)}"
echo "if that is not $store, change store: in $project/tolok.yaml, then run: $tolok db upgrade $project"

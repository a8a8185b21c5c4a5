#!/bin/sh
# Back up a team's tolok: the store (every computed value, definition version, account,
# audit entry, typed-in value) as a PostgreSQL dump, and the project folder (the YAML,
# data files, a DuckDB warehouse file) as a tar archive. Run it from cron or a systemd timer;
# copy OUT_DIR off the machine. tests/deploy/test_backup_restore.py runs it.
#
#   deploy/backup.sh STORE_URL PROJECT_DIR OUT_DIR
#
# STORE_URL is libpq's form (postgresql://tolok@db:5432/tolok); the password comes from
# PGPASSWORD or ~/.pgpass. A SQLite store (tolok.db in the project) is in the project archive,
# copied with SQLite's own backup so that a refresh writing meanwhile leaves no torn copy.
set -eu

if [ $# -ne 3 ]; then
    echo "usage: $0 STORE_URL PROJECT_DIR OUT_DIR" >&2
    exit 2
fi
store="$1"
project="$2"
out="$3"
mkdir -p "$out"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"

case "$store" in
    postgresql://* | postgres://*)
        # Custom format: compressed, and pg_restore can restore it into an empty database.
        kept="$out/store-$stamp.dump"
        pg_dump --format=custom --no-owner --no-privileges --file="$kept" "$store"
        ;;
    sqlite:*)
        kept="$out/tolok-$stamp.db"
        python3 -c 'import sqlite3, sys; s = sqlite3.connect(sys.argv[1]); d = sqlite3.connect(sys.argv[2]); s.backup(d); d.close()' \
            "$project/tolok.db" "$kept"
        ;;
    *)
        echo "$0: a store URL starts with postgresql:// or sqlite:, not: $store" >&2
        exit 2
        ;;
esac
# The project without what is rebuilt (virtual environments, caches) or copied above.
archive="$out/project-$stamp.tar.gz"
tar --create --gzip --file="$archive" --directory="$project" \
    --exclude=./.venv --exclude='*/__pycache__' --exclude=./tolok.db \
    --exclude=./tolok.db-wal --exclude=./tolok.db-shm --exclude=./spark-driver.log .
echo "$kept"
echo "$archive"

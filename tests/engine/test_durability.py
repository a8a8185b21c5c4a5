"""Kill `tolok ingest` and `tolok refresh` with SIGKILL at several moments; the next run
completes, and nothing is lost or doubled (checked against counts made from the files)."""

from __future__ import annotations

import csv
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import EXAMPLE

TOLOK = [sys.executable, "-m", "tolok"]
DELAYS = [0.4, 0.9, 1.4, 1.9, 2.4, 3.0]


def kill_after(command: list[str], delay: float, cwd: Path) -> int | None:
    """Start a command, SIGKILL it after `delay` seconds; its exit code if it ended first."""
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        return process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return None


def test_killed_ingests_leave_all_or_nothing_and_the_next_one_completes(tmp_path: Path) -> None:
    (tmp_path / "tolok.yaml").write_text(
        "name: Durable\nwarehouse: duckdb:///warehouse.duckdb\ndatasets:\n  orders:\n"
        "    source: orders\n    time: at\n    key: [id]\n"
        "    columns: {id: integer, amount: number}\n"
        "    measures:\n      revenue: {agg: sum, expr: amount}\n",
        encoding="utf-8",
    )
    rows = 150_000
    with (tmp_path / "orders.csv").open("w", encoding="utf-8") as handle:
        handle.write("id,at,amount\n")
        for n in range(rows):
            handle.write(f"{n},2026-01-{n % 28 + 1:02d}T10:00:00,{n % 97}.5\n")
    expected_sum = sum(n % 97 + 0.5 for n in range(rows))
    command = [*TOLOK, "ingest", "orders.csv", "--dataset", "orders"]
    outcomes = []
    for delay in DELAYS:
        code = kill_after(command, delay, tmp_path)
        outcomes.append(code)
        count = _count(tmp_path)
        assert count in (0, rows), f"killed after {delay} s: {count} rows"
    assert None in outcomes, "no run was killed: make the file bigger"
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        count, distinct, total = con.execute(
            "SELECT count(*), count(DISTINCT id), sum(amount) FROM orders"
        ).fetchone()
    assert (count, distinct) == (rows, rows)
    assert total == pytest.approx(expected_sum)


def _count(folder: Path) -> int:
    path = folder / "warehouse.duckdb"
    if not path.exists():
        return 0
    with duckdb.connect(str(path), read_only=True) as con:
        tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
        if "orders" not in tables:
            return 0
        return int(con.execute("SELECT count(*) FROM orders").fetchone()[0])


def test_killed_refreshes_leave_the_last_complete_one(tmp_path: Path) -> None:
    project = tmp_path / "toko"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("*.duckdb*", "tolok.db*"))
    first = subprocess.run([*TOLOK, "refresh", str(project)], capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    before = _stored_revenue(project)
    # New orders arrive: one more paid order in November 2026.
    with (project / "data" / "orders.csv").open("a", encoding="utf-8") as handle:
        handle.write("TM-999999,2026-11-20T03:00:00Z,C00001,Bali,web,fashion,1000000,false,paid\n")
    killed = 0
    for delay in DELAYS:
        if kill_after([*TOLOK, "refresh", str(project)], delay, tmp_path) is None:
            killed += 1
        stored = _stored_revenue(project)
        assert stored in (before, _with_extra(before)), f"killed after {delay} s: partial values"
        assert _one_complete_refresh_per_series(project)
    assert killed, "no refresh was killed"
    done = subprocess.run([*TOLOK, "refresh", str(project)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert _stored_revenue(project) == _with_extra(before) == _revenue_from_csv(project)


def _stored_revenue(project: Path) -> dict[str, float]:
    with sqlite3.connect(project / "tolok.db") as con:
        rows = con.execute(
            "SELECT period, value FROM results WHERE kpi = 'revenue' AND grain = 'month' "
            "AND breakdown = '' ORDER BY period"
        ).fetchall()
    return {period[:7]: value for period, value in rows}


def _with_extra(before: dict[str, float]) -> dict[str, float]:
    return {**before, "2026-11": before["2026-11"] + 1_000_000}


def _revenue_from_csv(project: Path) -> dict[str, float]:
    import datetime as dt

    totals: dict[str, float] = {}
    with (project / "data" / "orders.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            moment = dt.datetime.fromisoformat(row["Order Date"].replace("Z", "+00:00"))
            month = (moment + dt.timedelta(hours=7)).strftime("%Y-%m")
            totals.setdefault(month, 0.0)
            if row["Status"] == "paid":
                totals[month] += float(row["Jumlah (Rp)"])
    return dict(sorted(totals.items()))


def _one_complete_refresh_per_series(project: Path) -> bool:
    """Every stored value was written by a refresh that finished (an incremental refresh
    rewrites only recent periods, so a series may hold values of several refreshes)."""
    with sqlite3.connect(project / "tolok.db") as con:
        unfinished = con.execute(
            "SELECT count(*) FROM results r JOIN refreshes f ON f.id = r.refresh_id "
            "WHERE f.status <> 'done'"
        ).fetchone()[0]
    return unfinished == 0

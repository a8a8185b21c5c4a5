"""One KPI failing at run time does not stop the others: they are stored, it is reported
with the place in the YAML to look at, and `tolok refresh` exits 1. The next refresh
computes the failed KPI again once its data or definition is fixed."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tolok.cli import app
from tolok.engine.refresh import refresh_into_store
from tolok.engine.warehouse import Warehouse
from tolok.spec.loader import load_project
from tolok.store.database import open_store
from tolok.store.schema import Result

runner = CliRunner()
HUGE = "9" * 400


def _shop(root: Path, kpis: str, orders: str, sessions: bytes | None = None) -> Path:
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "data" / "orders.csv").write_text(orders, encoding="utf-8")
    sources = ""
    if sessions is not None:
        (root / "data" / "sessions.parquet").write_bytes(sessions)
        sources = (
            "  sessions:\n"
            "    source: file:data/sessions.parquet\n"
            "    time: day\n"
            "    measures:\n"
            "      sessions: {agg: count}\n"
        )
    (root / "tolok.yaml").write_text(
        "name: Shop\n"
        "timezone: UTC\n"
        "warehouse: duckdb://\n"
        "store: sqlite:///tolok.db\n"
        "datasets:\n"
        "  orders:\n"
        "    source: file:data/orders.csv\n"
        "    time: ordered_at\n"
        "    columns: {amount: integer}\n"
        "    measures:\n"
        "      revenue: {agg: sum, expr: amount}\n"
        "      orders: {agg: count}\n"
        f"{sources}"
        "kpis:\n"
        f"{kpis}",
        encoding="utf-8",
    )
    return root


ORDERS = "ordered_at,amount\n2026-01-05,10\n2026-01-20,20\n2026-02-03,30\n"


def _stored(store: Engine) -> dict[str, list[float | None]]:
    with Session(store) as session:
        rows = session.execute(
            select(Result.kpi, Result.value).where(Result.breakdown == "").order_by(Result.period)
        )
        out: dict[str, list[float | None]] = {}
        for kpi, value in rows:
            out.setdefault(kpi, []).append(value)
    return out


def test_a_huge_literal_refreshed_without_validation_fails_alone(tmp_path: Path) -> None:
    """The reported project: `revenue * 999…` (400 digits) between two plain KPIs. Refreshed
    without `tolok validate` (as a program calling the engine may), it once ended the whole
    refresh with OverflowError and nothing stored."""
    kpis = (
        "  revenue: {formula: revenue}\n"
        f"  huge: {{formula: revenue * {HUGE}}}\n"
        "  orders: {formula: orders}\n"
    )
    loaded = load_project(_shop(tmp_path, kpis, ORDERS))
    assert [p.code for p in loaded.problems.errors] == ["TLK010"]
    store = open_store(f"sqlite:///{tmp_path / 'tolok.db'}")

    _, stored = refresh_into_store(loaded, Warehouse(loaded), store)

    assert list(stored.failed) == ["huge"]
    failure = stored.failed["huge"]
    assert "too large" in failure.message
    assert failure.where is not None
    # Line 15, at the literal: `  huge: {formula: revenue * ` is 28 characters.
    assert (failure.where.file.name, failure.where.line, failure.where.col) == (
        "tolok.yaml",
        15,
        29,
    )
    assert _stored(store) == {"revenue": [30.0, 30.0], "orders": [2.0, 1.0]}


def test_a_data_error_in_one_dataset_fails_only_its_kpis_and_refresh_exits_1(
    tmp_path: Path,
) -> None:
    """A value the declared type cannot hold passes validation (columns are declared) and
    fails the query that reads it: the KPIs of the other dataset are stored anyway."""
    kpis = "  revenue: {formula: revenue}\n  visits: {formula: sessions}\n"
    bad = ORDERS.replace("2026-01-20,20", "2026-01-20,abc")
    root = _shop(tmp_path, kpis, bad, _sessions_parquet(tmp_path))
    assert runner.invoke(app, ["validate", str(root)]).exit_code == 0

    result = runner.invoke(app, ["refresh", str(root), "--no-alerts"])

    assert result.exit_code == 1
    assert "tolok.yaml:6:3: error[TLK020] the query for dataset 'orders' failed" in result.output
    assert "1 KPI not computed (revenue); the others were stored" in result.output
    store = open_store(f"sqlite:///{root / 'tolok.db'}")
    assert _stored(store) == {"visits": [1.0, 1.0]}

    (root / "data" / "orders.csv").write_text(ORDERS, encoding="utf-8")
    again = runner.invoke(app, ["refresh", str(root), "--no-alerts"])

    assert again.exit_code == 0, again.output
    assert _stored(store) == {"revenue": [30.0, 30.0], "visits": [1.0, 1.0]}


def test_a_dataset_that_cannot_be_read_fails_the_kpis_reading_it(tmp_path: Path) -> None:
    """A Parquet file that is not one fails as its watermark is taken, before any query:
    the KPIs reading it (alone or with others) fail at its `source`, the rest are stored,
    and its watermark is not kept, so the file fixed is read by the next refresh."""
    kpis = (
        "  revenue: {formula: revenue}\n"
        "  visits: {formula: sessions}\n"
        "  conversion: {formula: orders / sessions}\n"
    )
    root = _shop(tmp_path, kpis, ORDERS, b"this is not parquet")
    loaded = load_project(root)
    assert loaded.ok
    store = open_store(f"sqlite:///{root / 'tolok.db'}")

    _, stored = refresh_into_store(loaded, Warehouse(loaded), store)

    assert sorted(stored.failed) == ["conversion", "visits"]
    where = stored.failed["visits"].where
    assert where is not None
    assert (where.line, where.col) == (14, 13)  # source: file:data/sessions.parquet
    assert _stored(store) == {"revenue": [30.0, 30.0]}

    _sessions_parquet(tmp_path, root / "data" / "sessions.parquet")
    _, stored = refresh_into_store(load_project(root), Warehouse(loaded), store)

    assert stored.failed == {}
    assert _stored(store)["visits"] == [1.0, 1.0]
    assert _stored(store)["conversion"] == [2.0, 1.0]


def _sessions_parquet(tmp_path: Path, path: Path | None = None) -> bytes:
    import pandas as pd

    target = path or tmp_path / "sessions-source.parquet"
    frame = pd.DataFrame({"day": pd.to_datetime(["2026-01-05", "2026-02-01"]).date})
    frame.to_parquet(target)
    return target.read_bytes()

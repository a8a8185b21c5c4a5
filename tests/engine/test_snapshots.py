"""Current-state datasets (`time: none`) on DuckDB, PostgreSQL and MariaDB: the public IBM
Telco churn table (one row per customer, published churn 26.54 %) measured as of each
refresh, with the history the store keeps after two refreshes on different days. Expected
values counted here in plain Python from the CSV.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import unavailable
from tests.engine.conftest import MYSQL_URL, POSTGRES_URL
from tolok.engine.compute import Request, compute
from tolok.engine.refresh import refresh_into_store
from tolok.engine.warehouse import Warehouse
from tolok.spec import load_project
from tolok.spec.models import Grain
from tolok.store.database import open_store
from tolok.store.results import load
from tolok.track.pace import is_additive, is_level

TELCO = (
    next(
        (
            c / "telco_churn"
            for c in (Path(__file__).parents[3] / "shared" / "data", Path("/work/shared/data"))
            if (c / "telco_churn").exists()
        ),
        Path("/work/shared/data/telco_churn"),
    )
    / "WA_Fn-UseC_-Telco-Customer-Churn.csv"
)


def _rows() -> list[dict[str, str]]:
    if not TELCO.exists():
        pytest.skip(f"the Telco data is not at {TELCO}")
    with TELCO.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _write(url: str, rows: list[dict[str, str]]) -> None:
    import ibis

    frame = pd.DataFrame(rows)[["customerID", "Contract", "Churn"]]
    con = ibis.connect(url.replace("postgresql://", "postgres://"))
    con.create_table("telco_customers", frame, overwrite=True)
    con.disconnect()


@pytest.fixture(params=["duckdb", "postgres", "mysql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    url = POSTGRES_URL if request.param == "postgres" else MYSQL_URL
    try:
        import ibis

        ibis.connect(url.replace("postgresql://", "postgres://"), connect_timeout=5).disconnect()
    except Exception as exc:
        unavailable(request.param, exc)
    return url


def _project(folder: Path, url: str) -> Path:
    (folder / "tolok.yaml").write_text(
        f"""\
name: Telco
warehouse: {url}
store: sqlite:///{folder / "tolok.db"}
datasets:
  customers:
    source: telco_customers
    time: none
    dimensions: [Contract]
    measures:
      customers: {{agg: count}}
      churned: {{agg: count, where: "Churn == 'Yes'"}}
kpis:
  churn_rate:
    formula: ratio(churned, customers)
    unit: percent
    direction: down
    grain: day
    breakdowns: [[Contract]]
""",
        encoding="utf-8",
    )
    return folder


def _rate(rows: list[dict[str, str]], contract: str | None = None) -> float:
    kept = [r for r in rows if contract is None or r["Contract"] == contract]
    return sum(r["Churn"] == "Yes" for r in kept) / len(kept)


def _refresh(folder: Path, day: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOLOK_TODAY", day)
    loaded = load_project(folder)
    assert loaded.ok, loaded.problems.to_json(folder)
    warehouse = Warehouse(loaded)
    try:
        refresh_into_store(loaded, warehouse, open_store(f"sqlite:///{folder / 'tolok.db'}"))
    finally:
        warehouse.close()


def test_the_published_churn_rate_as_of_a_refresh(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _rows()
    _write(url, rows)
    monkeypatch.setenv("TOLOK_TODAY", "2026-12-01")
    loaded = load_project(_project(tmp_path, url))
    warehouse = Warehouse(loaded)
    try:
        found = compute(loaded, warehouse, Request(("churn_rate",), Grain.day))["churn_rate"]
    finally:
        warehouse.close()
    assert [(p.period, round(p.value or 0, 4)) for p in found.points] == [
        (dt.date(2026, 12, 1), 0.2654)  # 1,869 of 7,043
    ]
    assert found.points[0].value == pytest.approx(_rate(rows))


def test_two_refreshes_on_different_days_keep_a_history(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _rows()
    folder = _project(tmp_path, url)
    _write(url, rows)
    _refresh(folder, "2026-12-01", monkeypatch)
    # A day later 500 churned customers are gone from the table (as a CRM purges them).
    churned = [i for i, r in enumerate(rows) if r["Churn"] == "Yes"][:500]
    later = [r for i, r in enumerate(rows) if i not in set(churned)]
    _write(url, later)
    _refresh(folder, "2026-12-02", monkeypatch)
    _refresh(folder, "2026-12-02", monkeypatch)  # again the same day: that day's value, once
    store = open_store(f"sqlite:///{folder / 'tolok.db'}")
    total = load(store, "churn_rate", "day", ())
    assert [(p.period, p.value) for p in total] == [
        (dt.date(2026, 12, 1), pytest.approx(_rate(rows))),
        (dt.date(2026, 12, 2), pytest.approx(_rate(later))),
    ]
    by = load(store, "churn_rate", "day", ("Contract",))
    contracts = Counter(r["Contract"] for r in rows)
    assert len(by) == 2 * len(contracts)
    for point in by:
        (contract,) = point.slice
        assert isinstance(contract, str)
        source = rows if point.period == dt.date(2026, 12, 1) else later
        assert point.value == pytest.approx(_rate(source, contract)), point
    # At month grain the month is its last refresh's state, not a sum or an average.
    monkeypatch.setenv("TOLOK_TODAY", "2026-12-02")
    loaded = load_project(folder)
    warehouse = Warehouse(loaded)
    try:
        month = compute(loaded, warehouse, Request(("churn_rate",), Grain.month))["churn_rate"]
    finally:
        warehouse.close()
    assert [p.value for p in month.points] == [pytest.approx(_rate(later))]


def test_a_snapshot_count_is_a_level_not_a_flow(tmp_path: Path) -> None:
    """Open tickets counted today are not a pace to project to the month's end: a month's
    value and target are those of its last refresh."""
    (tmp_path / "tickets.csv").write_text("id,state\n1,open\n2,open\n", encoding="utf-8")
    (tmp_path / "tolok.yaml").write_text(
        """\
name: Desk
datasets:
  tickets:
    source: file:tickets.csv
    time: none
    measures:
      open_tickets: {agg: count, where: "state == 'open'"}
kpis:
  backlog: {formula: open_tickets, direction: down, target: {value: 50}}
""",
        encoding="utf-8",
    )
    loaded = load_project(tmp_path)
    assert loaded.ok, loaded.problems.to_json(tmp_path)
    assert loaded.project is not None
    assert is_level(loaded.project, "backlog")
    assert not is_additive(loaded.project, "backlog")

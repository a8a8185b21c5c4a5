"""The SQL tolok sends to each backend for a few measure batches, kept as snapshots so that
a change in what reaches the warehouse is always a visible diff.

Refresh them after an intended change with: TOLOK_UPDATE_SNAPSHOTS=1 pytest tests/compile
"""

from __future__ import annotations

import os
from pathlib import Path

import ibis
import pytest

from tolok.compile.dialect import dialect_for
from tolok.compile.measures import Context, MeasureQuery, compile_measures
from tolok.spec.calendar import Calendar
from tolok.spec.models import Dataset, Grain

SNAPSHOTS = Path(__file__).parent / "snapshots"
BACKENDS = ["duckdb", "postgres", "mysql", "pyspark"]
ORDERS = ibis.table(
    {
        "ordered_at": "timestamp('UTC')",
        "customer_id": "string",
        "region": "string",
        "amount": "float64",
        "status": "string",
    },
    name="orders",
)
DATASET = Dataset.model_validate(
    {
        "source": "shop.orders",
        "time": "ordered_at",
        "dimensions": ["region"],
        "measures": {
            "revenue": {"agg": "sum", "expr": "amount", "where": "status == 'paid'"},
            "orders": {"agg": "count", "where": "status == 'paid'"},
            "buyers": {"agg": "count_distinct", "expr": "customer_id"},
            "median_amount": {"agg": "median", "expr": "amount"},
            "paid_share": {"agg": "avg", "expr": "case(status == 'paid', 1, 0)"},
        },
    }
)
CASES = {
    "month_batch": MeasureQuery("orders", ("revenue", "orders", "buyers"), Grain.month),
    "shared_filter_by_region": MeasureQuery(
        "orders", ("revenue", "orders"), Grain.week, by=("region",)
    ),
    "fiscal_quarter_median": MeasureQuery(
        "orders", ("median_amount", "paid_share"), Grain.fiscal_quarter
    ),
}


def to_sql(backend: str, table: ibis.Table, request: pytest.FixtureRequest) -> str:
    if backend == "pyspark":
        # Spark's compiler needs a session's settings; compile as the live backend would.
        session = request.getfixturevalue("spark_session")
        return str(ibis.pyspark.connect(session).compile(table)).strip()
    return str(ibis.to_sql(table, dialect=backend)).strip()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", list(CASES))
def test_compiled_sql_matches_snapshot(
    backend: str, case: str, request: pytest.FixtureRequest
) -> None:
    calendar = Calendar(week_start=0, fiscal_start_month=4)
    ctx = Context(DATASET, calendar, dialect_for(backend), "Asia/Jakarta")
    compiled = compile_measures(ORDERS, CASES[case], ctx)
    sql = "\n;\n".join(to_sql(backend, table, request) for table in compiled.tables)
    snapshot = SNAPSHOTS / backend / f"{case}.sql"
    if os.environ.get("TOLOK_UPDATE_SNAPSHOTS") or not snapshot.exists():
        if os.environ.get("CI") and not snapshot.exists():
            pytest.fail(f"missing snapshot {snapshot}; create it locally and commit it")
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        snapshot.write_text(sql + "\n", encoding="utf-8")
    assert sql + "\n" == snapshot.read_text(encoding="utf-8")

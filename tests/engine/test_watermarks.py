"""The first and last day of a new Parquet file, read from its footer where that gives the
project's calendar day, equal what a query over its rows gives."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tolok.engine.warehouse import Warehouse
from tolok.engine.watermarks import _days, _parquet_days
from tolok.spec import load_project

TIMES = [
    dt.datetime(2026, 1, 31, 23, 30),
    dt.datetime(2026, 1, 5, 0, 15),
    dt.datetime(2026, 2, 2, 20),
]


def warehouse(folder: Path, dataset_zone: str, project_zone: str = "Asia/Jakarta") -> Warehouse:
    (folder / "tolok.yaml").write_text(
        f"name: Days\ntimezone: {project_zone}\nwarehouse: duckdb://\ndatasets:\n"
        f"  orders:\n    source: file:data/*.parquet\n    time: at\n    timezone: {dataset_zone}\n"
        "    measures:\n      orders: {agg: count}\nkpis:\n  orders: {formula: orders}\n",
        encoding="utf-8",
    )
    loaded = load_project(folder)
    assert loaded.ok, [p.message for p in loaded.problems.items]
    return Warehouse(loaded)


@pytest.mark.parametrize(
    ("column", "zone", "last"),
    [
        (pa.array(TIMES, pa.timestamp("us")), "Asia/Jakarta", "2026-02-02"),
        (pa.array([t.date() for t in TIMES], pa.date32()), "Asia/Jakarta", "2026-02-02"),
        # In UTC: 20:00 on 2 February is 03:00 on the 3rd in Jakarta, the project's zone.
        (pa.array(TIMES, pa.timestamp("us")), "UTC", "2026-02-03"),
        (pa.array(TIMES, pa.timestamp("us", tz="UTC")), "Asia/Jakarta", "2026-02-03"),
    ],
)
def test_days_from_the_footer_when_it_tells_the_local_day(
    tmp_path: Path, column: pa.Array, zone: str, last: str
) -> None:
    (tmp_path / "data").mkdir()
    path = tmp_path / "data" / "part.parquet"
    pq.write_table(pa.table({"at": column, "n": list(range(len(TIMES)))}), path, row_group_size=1)
    wh = warehouse(tmp_path, zone)
    assert wh.loaded.project is not None
    dataset = wh.loaded.project.datasets["orders"]
    from_footer = _parquet_days(wh, dataset, path)
    local_already = last == "2026-02-02"  # a date, or a naive time in the project's zone
    assert from_footer == (("2026-01-05", last) if local_already else None)
    assert _days(wh, "orders", dataset, [path]) == ("2026-01-05", last)

"""Levels (`over_time: last | first | average`) on every backend: a quarter's or a year's
value is the one of its last (first) day with data, or the average over its days with
data — never the sum of its months. Expected values from the fixture rows in plain Python.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import pytest

from tests.engine.fixture_data import SESSIONS
from tolok.engine.compute import Request, compute
from tolok.engine.warehouse import Warehouse
from tolok.spec import load_project
from tolok.spec.calendar import Calendar
from tolok.spec.models import Grain, Settings

MEASURES = {
    "last": "{agg: sum, expr: visits, over_time: last}",
    "first": "{agg: sum, expr: visits, over_time: first}",
    "average": "{agg: sum, expr: visits, over_time: average}",
    "rows_last": "{agg: count, over_time: last}",
    "flow": "{agg: sum, expr: visits}",
}


def _project(folder: Path, url: str) -> Path:
    measures = "\n".join(f"      {name}: {spec}" for name, spec in MEASURES.items())
    kpis = "\n".join(f"  {name}_kpi: {{formula: {name}}}" for name in MEASURES)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tolok.yaml").write_text(
        f"name: Levels\nwarehouse: {url}\ndatasets:\n  balances:\n    source: tolok_sessions\n"
        f"    time: day\n    dimensions: [region]\n    measures:\n{measures}\nkpis:\n{kpis}\n",
        encoding="utf-8",
    )
    return folder


def _expected(grain: Grain, by_region: bool) -> dict[str, dict[object, float]]:
    """Each period's (and region's) daily totals, then the level measures by hand. The last
    (first) day is the period's, whatever the region: a region without rows that day is 0
    at the period's end, not its own last value."""
    calendar = Calendar.of(Settings(name="x"))
    days: dict[object, dict[dt.date, list[float]]] = defaultdict(lambda: defaultdict(list))
    edges: dict[str, list[dt.date]] = defaultdict(list)
    for day, region, visits in SESSIONS:
        label = calendar.label(calendar.start_of(day, grain), grain)
        days[(label, region) if by_region else label][day].append(visits)
        edges[label].append(day)
    out: dict[str, dict[object, float]] = defaultdict(dict)
    for key, found in days.items():
        label = key[0] if isinstance(key, tuple) else key
        last, first = max(edges[label]), min(edges[label])
        if last in found:
            out["last"][key] = sum(found[last])
            out["rows_last"][key] = len(found[last])
        if first in found:
            out["first"][key] = sum(found[first])
        out["average"][key] = sum(sum(v) for v in found.values()) / len(found)
        out["flow"][key] = sum(sum(v) for v in found.values())
    return out


@pytest.mark.parametrize("grain", [Grain.month, Grain.quarter, Grain.year])
@pytest.mark.parametrize("by_region", [False, True])
def test_levels_at_every_grain(
    warehouse_url: str, tmp_path: Path, grain: Grain, by_region: bool
) -> None:
    loaded = load_project(_project(tmp_path / "levels", warehouse_url))
    assert loaded.ok, [p.message for p in loaded.problems.items]
    names = tuple(f"{name}_kpi" for name in MEASURES)
    by = ("region",) if by_region else ()
    request = Request(names, grain, by, start=dt.date(2025, 1, 1), end=dt.date(2027, 12, 31))
    result = compute(loaded, Warehouse(loaded), request)
    expected = _expected(grain, by_region)
    for name in MEASURES:
        got = {
            (p.label, p.slice[0][1]) if by_region else p.label: p.value
            for p in result[f"{name}_kpi"].points
            if p.value is not None
        }
        wanted = expected[name]
        # Periods and slices without rows show 0 for a flow and a level alike.
        assert {k: v for k, v in got.items() if k in wanted} == pytest.approx(wanted), name
        assert all(v == 0 for k, v in got.items() if k not in wanted), name


def test_a_level_over_a_rolling_window_is_its_last_day(warehouse_url: str, tmp_path: Path) -> None:
    """rolling(last, 2) in February 2026 is the last day with data in January-February."""
    folder = _project(tmp_path / "rolling", warehouse_url)
    text = (folder / "tolok.yaml").read_text(encoding="utf-8")
    (folder / "tolok.yaml").write_text(text + "  two: {formula: 'rolling(last, 2)'}\n", "utf-8")
    loaded = load_project(folder)
    assert loaded.ok, [p.message for p in loaded.problems.items]
    request = Request(("two",), Grain.month, start=dt.date(2026, 1, 1), end=dt.date(2026, 3, 31))
    got = {p.label: p.value for p in compute(loaded, Warehouse(loaded), request)["two"].points}
    # January's last day: 9 Jan (Jawa 60); February's window ends on 20 Feb (Jawa 25);
    # March's (February-March) on 15 March (10).
    assert (got["2026-02"], got["2026-03"]) == (25, 10)

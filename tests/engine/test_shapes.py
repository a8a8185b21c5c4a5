"""A refresh reads each dataset once for the measures that add up, at the finest shape it
needs, and adds the coarser shapes up from it (`tolok.engine.shapes`): the values are the
same as each shape read on its own, and as the fixture rows added up by hand."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

from tests.engine.conftest import write_project
from tests.engine.fixture_data import ORDERS, fiscal_quarter_april, order_day, paid
from tolok.engine.compute import Request, compute
from tolok.engine.refresh import refresh
from tolok.engine.series import KpiSeries
from tolok.engine.shapes import Shapes
from tolok.engine.warehouse import Warehouse
from tolok.spec import load_project
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import Grain

ADDING = ["revenue", "all_orders", "avg_paid", "smallest", "largest", "first_orders"]
OTHERS = ["buyers", "median_amount"]  # a distinct count and a median do not add up
GRAINS = [Grain.month, Grain.quarter, Grain.fiscal_quarter, Grain.year, Grain.week]


def _loaded(url: str, folder: Path) -> LoadedProject:
    lines = []
    for measure in ADDING + OTHERS:
        lines.append(f"  {measure}_month: {{formula: {measure}, breakdowns: [region]}}")
        for grain in GRAINS[1:]:
            lines.append(f"  {measure}_{grain.value}: {{formula: {measure}, grain: {grain.value}}}")
    loaded = load_project(write_project(folder, url, "\n".join(lines)))
    assert loaded.ok, [p.message for p in loaded.problems.items]
    return loaded


def _values(series: KpiSeries) -> dict[object, float | None]:
    out: dict[object, float | None] = {}
    for point in series.points:
        key: object = point.label if not point.slice else (point.label, point.slice[0][1])
        out[key] = None if point.value is None else round(point.value, 9)
    return out


def test_a_refresh_equals_each_shape_read_on_its_own(warehouse_url: str, tmp_path: Path) -> None:
    loaded = _loaded(warehouse_url, tmp_path)
    refreshed = refresh(loaded, Warehouse(loaded))
    assert not refreshed.failed
    for grain in GRAINS:
        names = tuple(f"{m}_{grain.value}" for m in ADDING + OTHERS)
        alone = compute(loaded, Warehouse(loaded), Request(names, grain))
        for name in names:
            assert _values(refreshed.totals[name]) == _values(alone[name]), name
    by_region = tuple(f"{m}_month" for m in ADDING + OTHERS)
    alone = compute(loaded, Warehouse(loaded), Request(by_region, Grain.month, ("region",)))
    for name in by_region:
        assert _values(refreshed.breakdowns[(name, ("region",))]) == _values(alone[name]), name


def test_quarters_and_years_add_up_from_months_by_region(
    warehouse_url: str, tmp_path: Path
) -> None:
    loaded = _loaded(warehouse_url, tmp_path)
    shapes = Shapes()
    months = tuple(f"{m}_month" for m in ADDING + OTHERS)
    warehouse = Warehouse(loaded)
    compute(loaded, warehouse, Request(months, Grain.month, ("region",)), shapes=shapes)
    assert shapes.derived == 0
    got: dict[Grain, dict[str, KpiSeries]] = {}
    for grain in (Grain.quarter, Grain.fiscal_quarter, Grain.year):
        names = tuple(f"{m}_{grain.value}" for m in ADDING + OTHERS)
        got[grain] = compute(loaded, warehouse, Request(names, grain), shapes=shapes)
    assert shapes.derived == 3  # the orders of each grain added up; buyers and medians read

    # By hand from the rows: paid revenue, the smallest and largest amount, the average paid
    # amount and the first orders, per calendar quarter, fiscal quarter (April) and year.
    def label(day: dt.date, grain: Grain) -> str:
        if grain is Grain.quarter:
            return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
        if grain is Grain.fiscal_quarter:
            return fiscal_quarter_april(day)
        return str(day.year)

    for grain, series in got.items():
        rows: dict[str, list[tuple[object, ...]]] = defaultdict(list)
        for row in ORDERS:
            rows[label(order_day(row), grain)].append(row)
        revenue = _values(series[f"revenue_{grain.value}"])
        smallest = _values(series[f"smallest_{grain.value}"])
        largest = _values(series[f"largest_{grain.value}"])
        average = _values(series[f"avg_paid_{grain.value}"])
        first = _values(series[f"first_orders_{grain.value}"])
        buyers = _values(series[f"buyers_{grain.value}"])
        for key, found in rows.items():
            amounts = [float(r[4]) for r in found]  # type: ignore[arg-type]
            paid_amounts = [float(r[4]) for r in found if paid(r)]  # type: ignore[arg-type]
            assert revenue[key] == round(sum(paid_amounts), 9), (grain, key)
            assert smallest[key] == min(amounts), (grain, key)
            assert largest[key] == max(amounts), (grain, key)
            mean = sum(paid_amounts) / len(paid_amounts) if paid_amounts else None
            assert average[key] == (None if mean is None else round(mean, 9)), (grain, key)
            assert first[key] == sum(1 for r in found if r[6]), (grain, key)
            assert buyers[key] == len({r[2] for r in found if paid(r)}), (grain, key)


def test_weeks_that_straddle_two_months_do_not_make_the_months(
    warehouse_url: str, tmp_path: Path
) -> None:
    loaded = _loaded(warehouse_url, tmp_path)
    shapes = Shapes()
    warehouse = Warehouse(loaded)
    weeks = tuple(f"{m}_week" for m in ADDING)
    compute(loaded, warehouse, Request(weeks, Grain.week), shapes=shapes)
    months = tuple(f"{m}_month" for m in ADDING)
    got = compute(loaded, warehouse, Request(months, Grain.month), shapes=shapes)
    # The week of 26 January to 1 February 2026 holds orders of both months.
    assert shapes.derived == 0
    january = sum(
        float(r[4])  # type: ignore[arg-type]
        for r in ORDERS
        if paid(r) and dt.date(2026, 1, 1) <= order_day(r) < dt.date(2026, 2, 1)
    )
    assert _values(got["revenue_month"])["2026-01"] == january

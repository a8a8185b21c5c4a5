"""KPI values on every backend equal values computed by hand from the fixture rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.engine.conftest import write_project
from tests.engine.fixture_data import (
    LEADS,
    ORDERS,
    SESSIONS,
    converted_leads,
    fiscal_quarter_april,
    iso_week,
    local,
    median,
    month,
    order_day,
    paid,
    percentile_cont,
)
from tolok.engine.compute import Request, compute
from tolok.engine.warehouse import Warehouse
from tolok.spec import load_project
from tolok.spec.models import Grain

Values = dict[str, float | None]


def run(
    url: str,
    folder: Path,
    formulas: dict[str, str],
    grain: Grain,
    start: dt.date,
    end: dt.date,
    **options: object,
) -> dict[str, dict[object, float | None]]:
    kpis = "\n".join(f"  {name}:\n    formula: {formula!r}" for name, formula in formulas.items())
    loaded = load_project(write_project(folder, url, kpis))
    assert loaded.ok, [p.message for p in loaded.problems.items]
    request = Request(tuple(formulas), grain, start=start, end=end, **options)  # type: ignore[arg-type]
    result = compute(loaded, Warehouse(loaded), request)
    out: dict[str, dict[object, float | None]] = {}
    for name, series in result.items():
        values: dict[object, float | None] = {}
        for point in series.points:
            key: object = point.label if not point.slice else (point.label, point.slice[0][1])
            values[key] = None if point.value is None else round(point.value, 9)
        out[name] = values
    return out


def rounded(values: dict[object, float | None]) -> dict[object, float | None]:
    return {k: None if v is None else round(float(v), 9) for k, v in values.items()}


MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"]


def monthly(rows_filter: object = None) -> dict[str, list[tuple[object, ...]]]:
    groups: dict[str, list[tuple[object, ...]]] = {m: [] for m in MONTHS}
    for row in ORDERS:
        key = month(order_day(row))
        if key in groups and (rows_filter is None or rows_filter(row)):  # type: ignore[operator]
            groups[key].append(row)
    return groups


def visits_by_month(region: str | None = None) -> dict[str, float]:
    out = dict.fromkeys(MONTHS, 0.0)
    for day, where, visits in SESSIONS:
        if month(day) in out and (region is None or where == region):
            out[month(day)] += visits
    return out


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def test_every_kind_of_measure_by_month(warehouse_url: str, tmp_path: Path) -> None:
    formulas = {
        "revenue": "revenue",
        "orders": "orders",
        "all_orders": "all_orders",
        "buyers": "buyers",
        "aov": "revenue / orders",
        "conversion": "orders / visits",
        "median_amount": "median_amount",
        "p90_amount": "p90_amount",
        "avg_paid": "avg_paid",
        "smallest": "smallest",
        "largest": "largest",
        "first_orders": "first_orders",
        "big_or_bali": "big_or_bali",
    }
    got = run(
        warehouse_url, tmp_path, formulas, Grain.month, dt.date(2026, 1, 1), dt.date(2026, 5, 31)
    )
    groups = monthly()
    visits = visits_by_month()
    amounts = {m: [float(r[4]) for r in rows] for m, rows in groups.items()}  # type: ignore[arg-type]
    paid_amounts = {m: [float(r[4]) for r in rows if paid(r)] for m, rows in groups.items()}  # type: ignore[arg-type]
    expected: dict[str, Values] = {
        "revenue": {m: sum(v) for m, v in paid_amounts.items()},
        "orders": {m: len(v) for m, v in paid_amounts.items()},
        "all_orders": {m: len(rows) for m, rows in groups.items()},
        "buyers": {m: len({r[2] for r in rows if paid(r)}) for m, rows in groups.items()},
        "aov": {m: ratio(sum(v), len(v)) for m, v in paid_amounts.items()},
        "conversion": {m: ratio(len(v), visits[m]) for m, v in paid_amounts.items()},
        "median_amount": {m: median(v) for m, v in amounts.items()},
        "p90_amount": {m: percentile_cont(v, 0.9) for m, v in amounts.items()},
        "avg_paid": {m: ratio(sum(v), len(v)) for m, v in paid_amounts.items()},
        "smallest": {m: min(v) if v else None for m, v in amounts.items()},
        "largest": {m: max(v) if v else None for m, v in amounts.items()},
        "first_orders": {m: sum(1 for r in rows if r[6]) for m, rows in groups.items()},
        "big_or_bali": {
            m: sum(1 for r in rows if r[4] >= 100 or r[3] == "Bali")  # type: ignore[operator]
            for m, rows in groups.items()
        },
    }
    for name, values in expected.items():
        assert got[name] == rounded(values), name  # type: ignore[arg-type]
    # The edge cases themselves, spelled out:
    assert got["revenue"]["2026-05"] == 0  # an empty month is present, as 0
    assert got["aov"]["2026-05"] is None  # 0 / 0 is empty, not an error
    assert got["median_amount"]["2026-05"] is None
    assert got["conversion"]["2026-04"] is None  # orders but no visits
    assert got["buyers"]["2026-01"] == 2  # c1 and c2 ordered twice each


def test_week_53_and_the_week_after(warehouse_url: str, tmp_path: Path) -> None:
    got = run(
        warehouse_url,
        tmp_path,
        {"revenue": "revenue"},
        Grain.week,
        dt.date(2026, 12, 21),
        dt.date(2027, 1, 10),
    )
    expected: Values = {"2026-W52": 0, "2026-W53": 0, "2027-W01": 0}
    for row in ORDERS:
        label = iso_week(order_day(row))
        if label in expected and paid(row):
            expected[label] = (expected[label] or 0) + float(row[4])  # type: ignore[arg-type]
    assert got["revenue"] == expected
    assert expected["2026-W53"] == 115  # 30 December 2026 and 2 January 2027


def test_fiscal_quarters_and_years_start_in_april(warehouse_url: str, tmp_path: Path) -> None:
    quarters = run(
        warehouse_url,
        tmp_path / "q",
        {"revenue": "revenue"},
        Grain.fiscal_quarter,
        dt.date(2026, 1, 1),
        dt.date(2026, 6, 30),
    )
    expected: Values = {"FY2026-Q4": 0, "FY2027-Q1": 0}
    for row in ORDERS:
        label = fiscal_quarter_april(order_day(row))
        if label in expected and paid(row):
            expected[label] = (expected[label] or 0) + float(row[4])  # type: ignore[arg-type]
    assert quarters["revenue"] == expected
    years = run(
        warehouse_url,
        tmp_path / "y",
        {"orders": "orders"},
        Grain.fiscal_year,
        dt.date(2025, 4, 1),
        dt.date(2027, 3, 31),
    )
    fy2026 = sum(
        1 for r in ORDERS if paid(r) and dt.date(2025, 4, 1) <= order_day(r) < dt.date(2026, 4, 1)
    )
    fy2027 = sum(
        1 for r in ORDERS if paid(r) and dt.date(2026, 4, 1) <= order_day(r) < dt.date(2027, 4, 1)
    )
    assert years["orders"] == {"FY2026": fy2026, "FY2027": fy2027}


def test_days_are_local_days(warehouse_url: str, tmp_path: Path) -> None:
    got = run(
        warehouse_url,
        tmp_path,
        {"revenue": "revenue"},
        Grain.day,
        dt.date(2025, 12, 31),
        dt.date(2026, 2, 1),
    )["revenue"]
    # 17:30 UTC on New Year's Eve is 00:30 on New Year's Day in Jakarta.
    assert got["2025-12-31"] == 0
    assert got["2026-01-01"] == 100
    assert got["2026-01-31"] == 0
    assert got["2026-02-01"] == 70
    assert len(got) == 33


def test_breakdown_keeps_a_null_region(warehouse_url: str, tmp_path: Path) -> None:
    got = run(
        warehouse_url,
        tmp_path,
        {"revenue": "revenue", "conversion": "orders / visits"},
        Grain.month,
        dt.date(2026, 1, 1),
        dt.date(2026, 5, 31),
        by=("region",),
    )
    regions = ["Bali", "Jawa", None]
    expected_revenue: dict[object, float | None] = {}
    expected_conversion: dict[object, float | None] = {}
    for label in MONTHS:
        for region in regions:
            rows = [r for r in monthly()[label] if r[3] == region and paid(r)]
            visits = sum(v for d, g, v in SESSIONS if month(d) == label and g == region)
            expected_revenue[(label, region)] = float(sum(r[4] for r in rows))  # type: ignore[misc]
            expected_conversion[(label, region)] = ratio(len(rows), visits)
    assert got["revenue"] == rounded(expected_revenue)
    assert got["conversion"] == rounded(expected_conversion)
    assert got["revenue"][("2026-04", None)] == 60


def test_time_functions(warehouse_url: str, tmp_path: Path) -> None:
    formulas = {
        "growth": "growth(revenue)",
        "previous": "previous(revenue, 2)",
        "last_year": "last_year(revenue)",
        "rolling": "rolling(revenue, 3)",
        "rolling_buyers": "rolling(buyers, 3)",
        "rolling_avg": "rolling(orders, 2, 'avg')",
        "ytd": "to_date(revenue)",
        "ytd_aov": "to_date(revenue / orders)",
        "ytd_buyers": "to_date(buyers)",
    }
    got = run(
        warehouse_url, tmp_path, formulas, Grain.month, dt.date(2026, 1, 1), dt.date(2026, 5, 31)
    )
    months = [f"2025-{m:02d}" for m in range(1, 13)] + MONTHS
    rows = {m: [r for r in ORDERS if paid(r) and month(order_day(r)) == m] for m in months}
    revenue = {m: float(sum(r[4] for r in rows[m])) for m in months}  # type: ignore[misc]
    count = {m: float(len(rows[m])) for m in months}

    def at(m: str, back: int) -> str:
        return months[months.index(m) - back]

    def customers(labels: list[str]) -> float:
        return float(len({r[2] for m in labels for r in rows[m]}))

    expected: dict[str, Values] = {
        "growth": {
            m: ratio(revenue[m] - revenue[at(m, 1)], abs(revenue[at(m, 1)])) for m in MONTHS
        },
        "previous": {m: revenue[at(m, 2)] for m in MONTHS},
        "last_year": {m: revenue[at(m, 12)] for m in MONTHS},
        "rolling": {m: sum(revenue[at(m, k)] for k in range(3)) for m in MONTHS},
        "rolling_buyers": {m: customers([at(m, k) for k in range(3)]) for m in MONTHS},
        "rolling_avg": {m: (count[m] + count[at(m, 1)]) / 2 for m in MONTHS},
        "ytd": {m: sum(revenue[x] for x in MONTHS[: MONTHS.index(m) + 1]) for m in MONTHS},
        "ytd_aov": {
            m: ratio(
                sum(revenue[x] for x in MONTHS[: MONTHS.index(m) + 1]),
                sum(count[x] for x in MONTHS[: MONTHS.index(m) + 1]),
            )
            for m in MONTHS
        },
        "ytd_buyers": {m: customers(MONTHS[: MONTHS.index(m) + 1]) for m in MONTHS},
    }
    for name, values in expected.items():
        assert got[name] == rounded(values), name  # type: ignore[arg-type]
    # c1, c2 and c4 bought in December to February; c2 in two months, counted once.
    assert got["rolling_buyers"]["2026-02"] == 3


def test_filter_and_comparison(warehouse_url: str, tmp_path: Path) -> None:
    got = run(
        warehouse_url,
        tmp_path,
        {"revenue": "revenue"},
        Grain.month,
        dt.date(2026, 1, 1),
        dt.date(2026, 2, 28),
        where="region == 'Bali'",
    )
    expected = {
        m: float(sum(r[4] for r in monthly()[m] if paid(r) and r[3] == "Bali"))  # type: ignore[misc]
        for m in ["2026-01", "2026-02"]
    }
    assert got["revenue"] == expected
    folder = write_project(tmp_path / "cmp", warehouse_url, "  revenue:\n    formula: revenue")
    loaded = load_project(folder)
    request = Request(
        ("revenue",),
        Grain.month,
        start=dt.date(2026, 1, 1),
        end=dt.date(2026, 2, 28),
        compare="last_year",
    )
    series = compute(loaded, Warehouse(loaded), request)["revenue"]
    assert [(p.label, p.value, p.compare) for p in series.points] == [
        ("2026-01", 405.0, 40.0),
        ("2026-02", 110.0, 60.0),
    ]


def test_conversions_within_a_window_count_in_the_first_events_period(
    warehouse_url: str, tmp_path: Path
) -> None:
    formulas = {
        "won": "won_30d",
        "rate": "won_30d_rate",
        "rate_by_formula": "won_30d / leads",
        "rate_2m": "rolling(won_30d_rate, 2)",
    }
    got = run(
        warehouse_url, tmp_path, formulas, Grain.month, dt.date(2026, 1, 1), dt.date(2026, 3, 31)
    )
    converted = converted_leads(dt.timedelta(days=30))
    months = ["2026-01", "2026-02", "2026-03"]
    started = {
        m: {lead for lead, created, _ in LEADS if month(local(created).date()) == m} for m in months
    }
    won = {m: float(len(started[m] & converted)) for m in months}
    rate = {m: ratio(won[m], len(started[m])) for m in months}
    two = {
        m: ratio(
            len((started[m] | started[months[i - 1]]) & converted) if i else None,
            len(started[m] | started[months[i - 1]]) if i else None,
        )
        for i, m in enumerate(months)
    }
    assert got["won"] == rounded(won)  # type: ignore[arg-type]
    assert got["rate"] == rounded(rate)
    assert got["rate_by_formula"] == rounded(rate)
    assert got["rate_2m"]["2026-02"] == round(3 / 5, 9)
    assert got["rate_2m"]["2026-03"] == rounded(two)["2026-03"]
    assert won == {"2026-01": 1.0, "2026-02": 2.0, "2026-03": 0.0}

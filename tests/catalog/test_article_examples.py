"""Each example KPI of the article, added from the catalog to a project holding a few rows
written here, computes the value worked out by hand from those rows (the arithmetic is in
the comment next to each expected number)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tolok.catalog.templates import catalog
from tolok.cli import app
from tolok.engine.compute import compute
from tolok.engine.series import Request
from tolok.engine.warehouse import Warehouse
from tolok.spec import load_project
from tolok.spec.models import Grain

runner = CliRunner()
Rows = list[tuple[object, ...]]


def _values(
    folder: Path,
    name: str,
    tables: dict[str, Rows],
    by: str | None = None,
    grain: Grain = Grain.month,
) -> dict[tuple[str, object], float | None]:
    """Month (or `grain`) values of template `name` added to a project whose datasets hold
    `tables` (per table role: rows in the order time, then the template's columns). Keys
    are (period, slice value), the slice value None for the whole."""
    template = catalog()[name]
    lines = ["name: Article check", "timezone: UTC", "warehouse: duckdb://", "datasets:"]
    (folder / "data").mkdir(parents=True)
    for role, table in template.tables.items():
        header = [table.time, *table.columns]
        with (folder / "data" / f"{role}.csv").open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            for row in tables[role]:
                assert len(row) == len(header), (role, row)
                writer.writerow(["" if v is None else str(v).lower() for v in row])
        types = [f"{table.time}: timestamp"]
        types += [f"{c}: {s.type.value}" for c, s in table.columns.items()]
        lines += [
            f"  {role}_data:",
            f"    source: file:data/{role}.csv",
            f"    time: {table.time}",
            f"    dimensions: [{', '.join(table.dimensions)}]",
            f"    columns: {{{', '.join(types)}}}",
        ]
    (folder / "tolok.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ["catalog", "add", name, "-p", str(folder)]
    for role in template.tables:
        args += ["--dataset", f"{role}={role}_data"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    loaded = load_project(folder)
    assert loaded.ok, [p.headline(folder) for p in loaded.problems.errors]
    request = Request((name,), grain, (by,) if by else ())
    series = compute(loaded, Warehouse(loaded), request)[name]
    return {(p.label, dict(p.slice).get(by) if by else None): p.value for p in series.points}


def _month(folder: Path, name: str, tables: dict[str, Rows], month: str = "2026-02") -> float:
    value = _values(folder, name, tables)[(month, None)]
    assert value is not None, f"{name} has no value for {month}"
    return value


def test_every_article_example_has_a_hand_checked_test() -> None:
    article = {n for n, t in catalog().items() if t.article}
    tested = {n.removeprefix("test_") for n in globals() if n.startswith("test_")}
    assert article <= tested, sorted(article - tested)


# Marketing


def test_roi(tmp_path: Path) -> None:
    rows: Rows = [
        ("2026-01-03 10:00", "spring", 100, 250),
        ("2026-01-20 10:00", "radio", 50, 40),
        ("2026-02-02 10:00", "spring", 200, 500),
        ("2026-02-15 10:00", "radio", 100, 50),
        ("2026-02-27 10:00", "spring", 100, 150),
    ]
    values = _values(tmp_path, "roi", {"campaigns": rows})
    # February: revenue 500 + 50 + 150 = 700, cost 200 + 100 + 100 = 400; (700 - 400) / 400
    assert values[("2026-02", None)] == pytest.approx(0.75)
    # January: revenue 250 + 40 = 290, cost 150; (290 - 150) / 150 = 0.9333
    assert values[("2026-01", None)] == pytest.approx(140 / 150)


def test_customer_lifetime_value(tmp_path: Path) -> None:
    rows: Rows = [
        ("2026-01-01", 100, True, False),
        ("2026-01-01", 200, True, False),
        ("2026-02-01", 100, False, False),
        ("2026-02-01", 200, False, True),
        ("2026-02-01", 50, True, False),
        ("2026-02-01", 150, False, False),
    ]
    # February: revenue 100 + 200 + 50 + 150 = 500 over 4 customers = 125 a customer;
    # 3 customers at the start (not new), 1 of them left: churn 1 / 3; CLV 125 / (1 / 3) = 375
    assert _month(tmp_path, "customer_lifetime_value", {"customers": rows}) == pytest.approx(375)


def test_customer_acquisition_cost(tmp_path: Path) -> None:
    spend: Rows = [
        ("2026-01-10 09:00", 80),
        ("2026-02-03 09:00", 300),
        ("2026-02-17 09:00", 200),
    ]
    orders: Rows = [
        ("2026-01-12 12:00", "c0", True),
        ("2026-02-04 12:00", "c1", True),
        ("2026-02-05 12:00", "c2", True),
        ("2026-02-09 12:00", "c1", False),
        ("2026-02-11 12:00", "c0", False),
        ("2026-02-21 12:00", "c4", True),
    ]
    tables = {"spend": spend, "orders": orders}
    # February: spend 300 + 200 = 500; first orders by c1, c2, c4 = 3 new customers; 500 / 3
    assert _month(tmp_path, "customer_acquisition_cost", tables) == pytest.approx(500 / 3)


def test_conversion_rate(tmp_path: Path) -> None:
    sessions: Rows = [(f"2026-01-{d:02d} 10:00",) for d in (2, 5, 9, 14, 20)]
    sessions += [(f"2026-02-{d:02d} 10:00",) for d in (1, 3, 4, 8, 11, 15, 22, 27)]
    orders: Rows = [("2026-01-05 10:30",), ("2026-02-04 10:30",), ("2026-02-22 11:00",)]
    values = _values(tmp_path, "conversion_rate", {"sessions": sessions, "orders": orders})
    # February: 2 orders / 8 sessions = 0.25
    assert values[("2026-02", None)] == pytest.approx(0.25)
    # January: 1 order / 5 sessions = 0.2
    assert values[("2026-01", None)] == pytest.approx(0.2)


def test_website_traffic(tmp_path: Path) -> None:
    rows: Rows = [
        ("2026-01-09 10:00", "desktop"),
        ("2026-02-01 10:00", "mobile"),
        ("2026-02-02 10:00", "desktop"),
        ("2026-02-09 10:00", "mobile"),
        ("2026-02-14 10:00", "mobile"),
        ("2026-02-28 23:00", "desktop"),
    ]
    values = _values(tmp_path, "website_traffic", {"sessions": rows})
    # February: 5 sessions (1, 2, 9, 14 and 28 February)
    assert values[("2026-02", None)] == 5
    assert values[("2026-01", None)] == 1


def test_social_media_engagement(tmp_path: Path) -> None:
    rows: Rows = [
        ("2026-01-15 10:00", "instagram", 200, 10, 0, 0),
        ("2026-02-03 10:00", "instagram", 1000, 40, 5, 5),
        ("2026-02-18 10:00", "tiktok", 500, 20, 3, 2),
    ]
    # February: interactions (40 + 5 + 5) + (20 + 3 + 2) = 75; impressions 1000 + 500 = 1500;
    # 75 / 1500 = 0.05
    assert _month(tmp_path, "social_media_engagement", {"social_posts": rows}) == pytest.approx(
        0.05
    )


def test_cta_conversion(tmp_path: Path) -> None:
    rows: Rows = [
        ("2026-01-20", "flash-sale", 100, 1),
        ("2026-02-05", "flash-sale", 200, 10),
        ("2026-02-06", "webinar", 300, 20),
    ]
    # February: interactions 10 + 20 = 30 / content distributed 200 + 300 = 500 = 0.06
    assert _month(tmp_path, "cta_conversion", {"cta_campaigns": rows}) == pytest.approx(0.06)


def test_blog_posts_per_month(tmp_path: Path) -> None:
    rows: Rows = [
        ("2026-01-07 08:00", "dewi"),
        ("2026-01-21 08:00", "budi"),
        ("2026-02-04 08:00", "dewi"),
        ("2026-02-11 08:00", "dewi"),
        ("2026-02-25 08:00", "budi"),
    ]
    values = _values(tmp_path, "blog_posts_per_month", {"posts": rows})
    # February: 3 posts (4, 11 and 25 February); January: 2
    assert values[("2026-02", None)] == 3
    assert values[("2026-01", None)] == 2


def test_click_through_rate(tmp_path: Path) -> None:
    rows: Rows = [
        ("2026-01-10 07:00", "jan-news", True),
        ("2026-02-10 07:00", "feb-news", True),
        ("2026-02-10 07:00", "feb-news", False),
        ("2026-02-10 07:00", "feb-news", False),
        ("2026-02-10 07:00", "feb-news", True),
        ("2026-02-10 07:00", "feb-news", False),
    ]
    # February: 2 clicked / 5 delivered = 0.4
    assert _month(tmp_path, "click_through_rate", {"email_sends": rows}) == pytest.approx(0.4)


# Sales


def test_monthly_sales_growth(tmp_path: Path) -> None:
    rows: Rows = [
        ("2026-01-05 10:00", 100, "bali"),
        ("2026-01-25 10:00", 300, "java"),
        ("2026-02-02 10:00", 250, "bali"),
        ("2026-02-26 10:00", 250, "java"),
    ]
    values = _values(tmp_path, "monthly_sales_growth", {"orders": rows})
    # January 100 + 300 = 400, February 250 + 250 = 500; (500 - 400) / 400 = 0.25
    assert values[("2026-02", None)] == pytest.approx(0.25)
    # January has no month before it
    assert values[("2026-01", None)] is None


def test_calls_and_emails(tmp_path: Path) -> None:
    rows: Rows = [
        ("2026-01-08 09:00", "call", "ana"),
        ("2026-02-02 09:00", "call", "ana"),
        ("2026-02-03 09:00", "email", "ana"),
        ("2026-02-04 09:00", "meeting", "budi"),
        ("2026-02-05 09:00", "call", "budi"),
    ]
    # February: call + email + call = 3 (the meeting does not count)
    assert _month(tmp_path, "calls_and_emails", {"activities": rows}) == 3


def test_opportunity_to_deal_ratio(tmp_path: Path) -> None:
    rows: Rows = [
        ("2026-01-08 09:00", "won", "ana"),
        ("2026-02-02 09:00", "won", "ana"),
        ("2026-02-03 09:00", "lost", "ana"),
        ("2026-02-09 09:00", "open", "budi"),
        ("2026-02-12 09:00", "won", "budi"),
        ("2026-02-20 09:00", "open", "budi"),
    ]
    # February: 2 won of 5 opportunities opened = 0.4
    value = _month(tmp_path, "opportunity_to_deal_ratio", {"opportunities": rows})
    assert value == pytest.approx(0.4)


def test_average_purchase_value(tmp_path: Path) -> None:
    rows: Rows = [
        ("2026-01-08 09:00", 1000, "online"),
        ("2026-02-02 09:00", 100, "online"),
        ("2026-02-03 09:00", 200, "store"),
        ("2026-02-28 09:00", 60, "online"),
    ]
    # February: (100 + 200 + 60) / 3 orders = 120
    assert _month(tmp_path, "average_purchase_value", {"orders": rows}) == pytest.approx(120)


# Service


def test_tickets_resolved(tmp_path: Path) -> None:
    rows: Rows = [
        ("2026-01-30 16:00", "resolved", "sari"),
        ("2026-02-02 16:00", "resolved", "sari"),
        ("2026-02-03 16:00", "closed", "tono"),
        ("2026-02-04 16:00", "reopened", "tono"),
        ("2026-02-05 16:00", "resolved", "tono"),
    ]
    # February: resolved + closed + resolved = 3 (the reopened ticket does not count)
    assert _month(tmp_path, "tickets_resolved", {"tickets": rows}) == 3


def test_csat(tmp_path: Path) -> None:
    rows: Rows = [
        ("2026-01-11 10:00", 2, "chat"),
        ("2026-02-01 10:00", 5, "chat"),
        ("2026-02-02 10:00", 4, "email"),
        ("2026-02-03 10:00", 3, "email"),
        ("2026-02-04 10:00", 1, "phone"),
        ("2026-02-05 10:00", 5, "chat"),
        ("2026-02-06 10:00", None, "chat"),
    ]
    # February: scores 5, 4, 3, 1, 5 (the unanswered row is no response): 3 of 5 are 4 or 5
    assert _month(tmp_path, "csat", {"csat_surveys": rows}) == pytest.approx(0.6)


def test_first_response_time(tmp_path: Path) -> None:
    rows: Rows = [
        ("2026-01-20 09:00", "2026-01-20 09:10", "email"),
        ("2026-02-02 09:00", "2026-02-02 09:30", "email"),
        ("2026-02-10 10:00", "2026-02-10 11:30", "chat"),
        ("2026-02-20 08:00", None, "phone"),
    ]
    # February: 30 and 90 minutes; the ticket with no reply yet is left out; (30 + 90) / 2 = 60
    assert _month(tmp_path, "first_response_time", {"tickets": rows}) == pytest.approx(60)


def test_nps(tmp_path: Path) -> None:
    scores = [10, 9, 9, 8, 7, 6, 2, 10, 10, 5]
    rows: Rows = [("2026-01-15 10:00", 0, "retail")]
    rows += [(f"2026-02-{i + 1:02d} 10:00", s, "retail") for i, s in enumerate(scores)]
    # February: promoters (9-10): 10, 9, 9, 10, 10 = 5; detractors (0-6): 6, 2, 5 = 3;
    # 10 answers; 100 * (5 - 3) / 10 = 20
    assert _month(tmp_path, "nps", {"nps_surveys": rows}) == pytest.approx(20)


# Website


def test_traffic_sources(tmp_path: Path) -> None:
    rows: Rows = [
        ("2026-01-10 10:00", "direct"),
        ("2026-02-01 10:00", "organic"),
        ("2026-02-02 10:00", "organic"),
        ("2026-02-03 10:00", "paid"),
        ("2026-02-04 10:00", "email"),
        ("2026-02-05 10:00", "organic"),
        ("2026-02-06 10:00", "email"),
    ]
    # February: 6 sessions; by source organic 3, email 2, paid 1
    assert _month(tmp_path, "traffic_sources", {"sessions": rows}) == 6
    split = _values(tmp_path / "by", "traffic_sources", {"sessions": rows}, by="source")
    assert split[("2026-02", "organic")] == 3
    assert split[("2026-02", "email")] == 2
    assert split[("2026-02", "paid")] == 1


def test_pages_per_session(tmp_path: Path) -> None:
    rows: Rows = [
        ("2026-01-10 10:00", 2, "mobile"),
        ("2026-02-01 10:00", 1, "mobile"),
        ("2026-02-02 10:00", 4, "desktop"),
        ("2026-02-03 10:00", 7, "desktop"),
    ]
    # February: (1 + 4 + 7) page views / 3 sessions = 4
    assert _month(tmp_path, "pages_per_session", {"sessions": rows}) == pytest.approx(4)


def test_transactions(tmp_path: Path) -> None:
    rows: Rows = [
        ("2026-01-10 10:00", "completed", "mobile"),
        ("2026-02-01 10:00", "completed", "mobile"),
        ("2026-02-02 10:00", "completed", "desktop"),
        ("2026-02-03 10:00", "cancelled", "desktop"),
        ("2026-02-04 10:00", "refunded", "mobile"),
        ("2026-02-05 10:00", "completed", "tablet"),
    ]
    # February: 3 completed (cancelled and refunded do not count)
    assert _month(tmp_path, "transactions", {"web_orders": rows}) == 3


# Two others that read more than one table


def test_trial_conversion(tmp_path: Path) -> None:
    trials: Rows = [
        ("2026-01-20 10:00", "a0"),
        ("2026-02-01 10:00", "a1"),
        ("2026-02-05 10:00", "a2"),
        ("2026-02-10 10:00", "a3"),
        ("2026-02-20 10:00", "a4"),
    ]
    payments: Rows = [
        ("2026-02-15 10:00", "a1"),
        ("2026-03-20 10:00", "a2"),
        ("2026-02-09 10:00", "a3"),
        ("2026-03-01 10:00", "a4"),
    ]
    tables = {"trials": trials, "payments": payments}
    # February's trials: a1 paid after 14 days (yes), a2 after 43 days (no), a3 paid before
    # its trial (no), a4 after 9 days (yes): 2 / 4 = 0.5
    assert _month(tmp_path, "trial_conversion", tables) == pytest.approx(0.5)


def test_revenue_per_employee(tmp_path: Path) -> None:
    orders: Rows = [
        ("2026-02-03 10:00", 1200),
        ("2026-02-14 10:00", 1800),
        ("2026-01-14 10:00", 900),
    ]
    staff: Rows = [
        ("2026-01-01", "e1"),
        ("2026-02-01", "e1"),
        ("2026-02-01", "e2"),
        ("2026-02-01", "e3"),
    ]
    tables = {"orders": orders, "staff": staff}
    # February: revenue 1200 + 1800 = 3000 / 3 employees = 1000
    assert _month(tmp_path, "revenue_per_employee", tables) == pytest.approx(1000)

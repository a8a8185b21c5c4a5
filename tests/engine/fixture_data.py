"""Small rows built to hit the edge cases, and the expected KPI values computed from them in
plain Python (zoneinfo, isocalendar, hand-written bucketing) — never with tolok's code."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Asia/Jakarta")
UTC = dt.UTC

# order_id, ordered_at (UTC, naive), customer, region, amount, status, is_first
ORDERS = [
    (1, dt.datetime(2025, 12, 31, 17, 30), "c1", "Bali", 100, "paid", True),  # 2026-01-01 local
    (2, dt.datetime(2026, 1, 5, 3, 0), "c1", "Bali", 50, "paid", False),
    (3, dt.datetime(2026, 1, 10, 9, 0), "c2", "Jawa", 200, "paid", True),
    (4, dt.datetime(2026, 1, 20, 12, 0), "c3", None, 80, "cancelled", True),
    (5, dt.datetime(2026, 1, 31, 18, 30), "c2", "Jawa", 70, "paid", False),  # 02-01 local
    (6, dt.datetime(2026, 2, 14, 5, 0), "c4", "Bali", 30, "paid", True),
    (7, dt.datetime(2026, 2, 28, 16, 59), "c4", "Bali", 10, "paid", False),
    # March 2026 has only this order, at 23:30 local time; May 2026 has none at all.
    (8, dt.datetime(2026, 3, 31, 16, 30), "c5", "Jawa", 300, "paid", True),  # FY2026 last day
    (9, dt.datetime(2026, 3, 31, 17, 30), "c5", "Jawa", 120, "paid", False),  # FY2027 first
    (10, dt.datetime(2026, 4, 15, 2, 0), "c6", None, 60, "paid", True),
    (11, dt.datetime(2026, 4, 15, 3, 0), "c6", None, 40, "returned", False),
    (12, dt.datetime(2026, 12, 30, 4, 0), "c7", "Bali", 90, "paid", True),  # 2026-W53
    (13, dt.datetime(2027, 1, 2, 4, 0), "c7", "Bali", 25, "paid", False),  # still 2026-W53
    (14, dt.datetime(2027, 1, 4, 4, 0), "c8", "Jawa", 15, "paid", True),  # 2027-W01
    (15, dt.datetime(2025, 1, 15, 4, 0), "c9", "Bali", 40, "paid", True),
    (16, dt.datetime(2025, 2, 10, 4, 0), "c9", "Bali", 60, "paid", False),
    (17, dt.datetime(2026, 1, 12, 4, 0), "c2", "Jawa", 55, "paid", False),  # c2 again
]
ORDER_COLUMNS = ["order_id", "ordered_at", "customer_id", "region", "amount", "status", "is_first"]

# day (a date: no time zone), region, visits
SESSIONS = [
    (dt.date(2025, 1, 3), "Bali", 30),
    (dt.date(2025, 2, 3), "Bali", 40),
    (dt.date(2026, 1, 1), "Bali", 40),
    (dt.date(2026, 1, 9), "Jawa", 60),
    (dt.date(2026, 2, 2), "Bali", 25),
    (dt.date(2026, 2, 20), "Jawa", 25),
    (dt.date(2026, 3, 15), "Jawa", 10),
    (dt.date(2026, 4, 10), "Jawa", 0),  # orders in April, no visits: conversion is empty
    (dt.date(2026, 12, 29), "Bali", 12),
    (dt.date(2027, 1, 3), "Bali", 8),
]
SESSION_COLUMNS = ["day", "region", "visits"]

# Account balances (a level with an entity: key [account_id, day]) on sparse days.
BALANCES = [
    (dt.date(2026, 1, 5), "A1", "Bali", 100.0),
    (dt.date(2026, 1, 10), "A2", "Jawa", 50.0),
    (dt.date(2026, 1, 20), "A1", "Bali", 120.0),
    (dt.date(2026, 2, 3), "A2", "Jawa", 70.0),
    (dt.date(2026, 2, 3), "A3", "Bali", 30.0),
    (dt.date(2026, 3, 1), "A3", "Bali", 0.0),  # closed, with a final 0 row
    (dt.date(2026, 3, 15), "A1", "Jawa", 150.0),  # moved from Bali to Jawa in Q1
    (dt.date(2026, 4, 2), "A2", "Jawa", 80.0),
    (dt.date(2026, 5, 30), "A1", "Jawa", 160.0),
    (dt.date(2026, 7, 7), "A1", "Jawa", 170.0),  # no row later in Q3: still 170 at its end
    (dt.date(2026, 7, 7), "A4", "Bali", 40.0),
    (dt.date(2026, 8, 12), "A2", "Jawa", 90.0),
    (dt.date(2026, 9, 30), "A4", "Sumatera", 45.0),
    (dt.date(2026, 11, 2), "A2", "Jawa", 95.0),
]
BALANCE_COLUMNS = ["day", "account_id", "region", "balance"]

# Conversions: a lead (lead_id, created_at UTC, channel) becomes a won deal within 30 days.
LEADS = [
    ("L1", dt.datetime(2026, 1, 5, 3, 0), "ads"),
    ("L2", dt.datetime(2026, 1, 20, 3, 0), "ads"),
    ("L3", dt.datetime(2026, 1, 31, 18, 0), "organic"),  # 1 February in Jakarta
    ("L4", dt.datetime(2026, 2, 10, 3, 0), "organic"),
    ("L5", dt.datetime(2026, 2, 25, 3, 0), "ads"),
]
LEAD_COLUMNS = ["lead_id", "created_at", "channel"]
DEALS = [
    ("D1", "L1", dt.datetime(2026, 1, 20, 3, 0), "won"),
    ("D2", "L1", dt.datetime(2026, 1, 25, 3, 0), "won"),  # a second deal: L1 counts once
    ("D3", "L2", dt.datetime(2026, 2, 25, 3, 0), "won"),  # 36 days later: too late
    ("D4", "L3", dt.datetime(2026, 2, 15, 3, 0), "lost"),  # not won
    ("D5", "L3", dt.datetime(2026, 3, 1, 3, 0), "won"),  # 28 days 9 hours later
    ("D6", "L4", dt.datetime(2026, 2, 9, 3, 0), "won"),  # before the lead: not a conversion
    ("D7", "L5", dt.datetime(2026, 3, 27, 3, 0), "won"),  # exactly 30 days: inside
]
DEAL_COLUMNS = ["deal_id", "lead_id", "won_at", "stage"]


def converted_leads(window: dt.timedelta) -> set[str]:
    """Leads with a won deal from their creation to the end of the window (inclusive)."""
    out = set()
    for lead, created, _ in LEADS:
        for _, deal_lead, won, stage in DEALS:
            if deal_lead == lead and stage == "won" and created <= won <= created + window:
                out.add(lead)
    return out


def local(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=UTC).astimezone(ZONE).replace(tzinfo=None)


def month(day: dt.date) -> str:
    return f"{day.year}-{day.month:02d}"


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def fiscal_quarter_april(day: dt.date) -> str:
    year = day.year + 1 if day.month >= 4 else day.year
    return f"FY{year}-Q{(day.month - 4) % 12 // 3 + 1}"


def paid(row: tuple[object, ...]) -> bool:
    return row[5] == "paid"


def aggregate(
    rows: Iterable[tuple[object, ...]],
    key: Callable[[tuple[object, ...]], str],
    value: Callable[[list[tuple[object, ...]]], float | None],
) -> dict[str, float | None]:
    groups: dict[str, list[tuple[object, ...]]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return {k: value(v) for k, v in groups.items()}


def percentile_cont(values: list[float], p: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * p
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def order_day(row: tuple[object, ...]) -> dt.date:
    moment = row[1]
    assert isinstance(moment, dt.datetime)
    return local(moment).date()


def by_month(rows: Iterable[tuple[object, ...]]) -> dict[str, list[tuple[object, ...]]]:
    groups: dict[str, list[tuple[object, ...]]] = defaultdict(list)
    for row in rows:
        groups[month(order_day(row))].append(row)
    return groups


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None

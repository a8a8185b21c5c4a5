"""A small shop for the page and browser tests: orders of the last thirteen months (rows
known here, so tests work out expected values by hand), a manual dataset, two goals, four
KPIs, an IDR currency; refreshed into its store."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from tolok.auth import accounts

PASSWORD = "correct horse battery"
PEOPLE = [
    ("viewer@example.com", "viewer"),
    ("editor@example.com", "editor"),
    ("admin@example.com", "admin"),
]
REVENUE_TARGET = 4_000_000


@dataclass(frozen=True)
class Order:
    day: dt.date
    region: str
    amount: int


def month_start(day: dt.date, back: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def orders(today: dt.date) -> list[Order]:
    """Two orders a month per region for thirteen months, none from today on."""
    out = []
    for back in range(13, -1, -1):
        start = month_start(today, back)
        i = 13 - back
        for day in (3, 17):
            out.append(Order(start.replace(day=day), "Bali", 1_000_000 * (1 + i % 3)))
            out.append(Order(start.replace(day=day), "Jawa", 1_500_000 + 100_000 * i))
    return [o for o in out if o.day < today]


def project_yaml(today: dt.date) -> str:
    first = month_start(today, 13)
    return f"""\
name: Toko Uji
locale: en
currency: IDR
timezone: UTC
warehouse: duckdb:///warehouse.duckdb
store: sqlite:///tolok.db
datasets:
  orders:
    source: file:orders.csv
    time: ordered_at
    dimensions: [region]
    measures:
      revenue: {{agg: sum, expr: amount}}
      order_count: {{agg: count}}
  ad_spend:
    source: manual
    measures:
      spend: {{agg: sum}}
goals:
  grow:
    title: Grow revenue
    owner: owner@example.com
  win:
    title: Win customers cheaply
    parent: grow
kpis:
  revenue:
    title: Revenue
    description: The amount of the orders placed in the month.
    formula: revenue
    unit: currency
    goal: grow
    owner: sales@example.com
    target: {{value: {REVENUE_TARGET}, from: {first:%Y-%m}}}
    actions: [Run a weekend promotion]
    breakdowns: [region]
  orders:
    title: Orders
    description: The number of orders placed in the month.
    formula: order_count
    unit: count
    goal: grow
    owner: sales@example.com
    target: {{value: 4, from: {first:%Y-%m}}}
    actions: [Call back abandoned carts]
  aov:
    title: Average order value
    description: The revenue of the month divided by its number of orders.
    formula: ratio(revenue, order_count)
    unit: currency
    goal: grow
    owner: sales@example.com
  ad_spend:
    title: Ad spend
    description: What the ads of the month cost, typed in by marketing.
    formula: spend
    unit: currency
    direction: down
    goal: win
    owner: marketing@example.com
"""


def build(root: Path, today: dt.date) -> list[Order]:
    """The project in `root`, refreshed, with a viewer, an editor and an admin."""
    from tolok.engine.refresh import refresh_into_store
    from tolok.engine.warehouse import Warehouse
    from tolok.spec.loader import load_project
    from tolok.store.database import open_store, store_url
    from tolok.store.manual import source

    rows = orders(today)
    (root / "tolok.yaml").write_text(project_yaml(today), encoding="utf-8")
    lines = ["ordered_at,region,amount"]
    lines += [f"{o.day.isoformat()},{o.region},{o.amount}" for o in rows]
    (root / "orders.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    loaded = load_project(root)
    assert loaded.project is not None, loaded.problems
    engine = open_store(store_url(loaded.project.store, root))
    refresh_into_store(loaded, Warehouse(loaded, manual=source(engine)), engine)
    with Session(engine) as session, session.begin():
        for email, role in PEOPLE:
            accounts.add_user(session, email, email.split("@")[0].title(), role, "test", PASSWORD)
    engine.dispose()
    return rows


def monthly(rows: list[Order], start: dt.date) -> tuple[int, int]:
    """Revenue and number of orders of the month starting on `start`, by hand."""
    inside = [o for o in rows if month_start(o.day) == start]
    return sum(o.amount for o in inside), len(inside)

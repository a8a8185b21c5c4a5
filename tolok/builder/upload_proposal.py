"""What a new dataset over an uploaded file (or a warehouse table) should say, as an analyst
would write it: the time column, the dimensions to break KPIs down by, and measures named
for what they count — `sales` and `profit` added up, `orders` and `customers` as distinct
order and customer ids — and the dataset definition the YAML gets once the editor agrees.

Pure: columns in, a proposal out (see `upload` for the columns). Knows nothing of files,
HTTP or the store.

>>> snake("Order Date"), snake("MonthlyCharges"), plural("category")
('order_date', 'monthly_charges', 'categories')
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from tolok.builder.upload import INGEST_TYPES, Column, Kind, words
from tolok.spec.formula import quote_name

MAX_DIMENSION_VALUES = 50
"""A text column with more distinct values than this (names, cities) is not proposed as a
dimension: a breakdown into hundreds of slices reads as noise."""
_TIME_FIRST = {"order", "ordered", "created", "transaction", "sale", "sold", "purchase",
               "booked", "signup", "event", "date", "day", "timestamp", "invoice",
               "paid"}  # fmt: skip
_TIME_LAST = {"ship", "shipped", "delivery", "delivered", "due", "end", "closed", "updated",
              "modified", "birth", "expiry", "expires", "deleted"}  # fmt: skip
_MONEY = {"sales", "sale", "revenue", "amount", "price", "profit", "cost", "costs", "total",
          "income", "spend", "spent", "fee", "fees", "value", "margin", "payment", "paid",
          "budget", "charges", "charge", "gmv", "turnover", "tax", "omzet", "harga", "jumlah",
          "pendapatan", "biaya", "laba", "penjualan"}  # fmt: skip
_QUANTITY = {"quantity", "qty", "units", "items", "clicks", "impressions", "conversions",
             "conversion", "sessions", "views", "visits", "leads", "signups", "installs",
             "jumlah", "tickets", "calls"}  # fmt: skip
_ROWISH = {"row", "line", "record", "index", "idx", "no", "nr", "number", "num"}
_ID_WORDS = {"id", "no", "nr", "number", "num", "key", "uuid", "guid"}


@dataclass(frozen=True)
class MeasurePlan:
    """A measure to propose: its name, how it aggregates, and over which column (None for
    a count of rows)."""

    name: str
    agg: str
    column: str | None

    def definition(self) -> dict[str, str]:
        """As the YAML writes it: `{agg: sum, expr: Sales}`."""
        if self.column is None:
            return {"agg": self.agg}
        return {"agg": self.agg, "expr": quote_name(self.column)}


@dataclass(frozen=True)
class Proposal:
    name: str
    time: str | None
    dimensions: list[str] = field(default_factory=list)
    measures: list[MeasurePlan] = field(default_factory=list)


def propose(
    columns: list[Column],
    rows: int,
    label: str,
    datasets: Iterable[str] = (),
    measures: Iterable[str] = (),
) -> Proposal:
    """A dataset over `columns` (of a file of `rows` rows called `label`), its name and
    measure names free in a project that has `datasets` and `measures` already."""
    name = free(dataset_name(label), set(datasets))
    time = time_column(columns)
    dimensions = [
        c.name
        for c in columns
        if c.kind in (Kind.text, Kind.boolean) and 2 <= c.distinct <= MAX_DIMENSION_VALUES
    ]
    taken = set(measures)
    plans: list[MeasurePlan] = []
    for column in columns:
        plan = _measure(column, rows)
        if plan is not None:
            plans.append(MeasurePlan(free(plan.name, taken), plan.agg, plan.column))
            taken.add(plans[-1].name)
    if not any(p.agg in ("count", "count_distinct") for p in plans):
        count = free(f"{singular(name)}_count", taken)
        plans.insert(0, MeasurePlan(count, "count", None))
    return Proposal(name, time, dimensions, plans)


def time_column(columns: list[Column]) -> str | None:
    """The date or timestamp column rows are dated by: one named like an order or created
    date before one named like a ship or end date; the fullest, then the first."""
    dated = [c for c in columns if c.kind in (Kind.date, Kind.datetime)]
    if not dated:
        return None

    def score(column: Column) -> tuple[int, int]:
        said = set(words(column.name))
        points = 2 * len(said & _TIME_FIRST) - 3 * len(said & _TIME_LAST)
        return points, -column.empty

    best = max(score(c) for c in dated)
    return next(c.name for c in dated if score(c) == best)


def _measure(column: Column, rows: int) -> MeasurePlan | None:
    said = words(column.name)
    if column.kind == Kind.id:
        stem = [w for w in said if w not in _ID_WORDS]
        if not stem or not set(said) & _ID_WORDS or set(stem) <= _ROWISH:
            return None  # a row number, a postal code: nothing to count
        return MeasurePlan(plural(snake("_".join(stem))), "count_distinct", column.name)
    if column.numeric and set(said) & (_MONEY | _QUANTITY):
        return MeasurePlan(snake(column.name), "sum", column.name)
    return None


def dataset_definition(
    source: str,
    time: str | None,
    dimensions: list[str],
    measures: list[MeasurePlan],
    declared: dict[str, Kind] | None = None,
) -> dict[str, object]:
    """The dataset as the YAML gets it, keys in the order people write them; `declared`:
    the columns whose type the editor corrected (written as `columns:`)."""
    definition: dict[str, object] = {"source": source, "time": time or "none"}
    if dimensions:
        definition["dimensions"] = list(dimensions)
    if declared:
        definition["columns"] = {name: INGEST_TYPES[kind] for name, kind in declared.items()}
    definition["measures"] = {m.name: m.definition() for m in measures}
    return definition


# --- names ---------------------------------------------------------------------------------


def snake(text: str) -> str:
    """A name as an engineer writes it: lower case words joined by `_`, starting with a
    letter ("Sales (Rp)" → "sales_rp"); "data" when nothing is left."""
    joined = "_".join(words(text))
    joined = re.sub(r"^[^a-z]+", "", joined)
    if not joined:
        return "data"
    return joined + "_" if keyword.iskeyword(joined) else joined


def dataset_name(label: str) -> str:
    """A dataset's name from its file's ("Sample - Superstore.xlsx" → sample_superstore)."""
    stem = label.rsplit("/", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    return snake(stem)[:60].rstrip("_") or "data"


def free(name: str, taken: set[str]) -> str:
    """`name`, or `name_2`, `name_3`… when it is taken."""
    if name not in taken:
        return name
    number = 2
    while f"{name}_{number}" in taken:
        number += 1
    return f"{name}_{number}"


def plural(word: str) -> str:
    """English plural of a snake_case name's last word (order → orders, category →
    categories, address → addresses); words ending in s stay."""
    if word.endswith("s"):
        return word if not word.endswith(("ss", "us")) else word + "es"
    if word.endswith(("x", "ch", "sh")):
        return word + "es"
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    return word + "s"


def singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word

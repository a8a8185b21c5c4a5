"""The functions a formula may call, with their arity and argument types.

Two contexts: KPI `formula` works on measures and KPIs (numbers per period); measure
`expr` and `where` work on the columns of one row.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tolok.spec.problems import Text, say


class Type(StrEnum):
    number = "number"
    text = "text"
    boolean = "condition"
    time = "date/time"
    any = "any"


class Context(StrEnum):
    kpi = "kpi"
    row = "row"


class Arg(StrEnum):
    number = "number"
    time = "time"
    text = "text"
    anything = "anything"
    count = "count"  # type: ignore[assignment]  # a whole number literal >= 1
    agg = "agg"  # one of ROLLING_AGGS, as a text literal
    grain = "grain"  # one of TO_DATE_GRAINS, as a text literal


ROLLING_AGGS = ("sum", "avg", "min", "max")
TO_DATE_GRAINS = ("week", "month", "quarter", "year", "fiscal_quarter", "fiscal_year")


@dataclass(frozen=True)
class Signature:
    name: str
    args: tuple[Arg, ...]
    required: int
    variadic: bool
    returns: Type | None  # None: the type of the first argument that has one
    usage: str
    summary: str

    def arity_text(self) -> str:
        return str(self.arity())

    def arity(self) -> Text:
        """How many arguments it takes, in words: `2`, `2 to 3`, `at least 1`."""
        if self.variadic:
            return say("at least {n}", n=self.required)
        if self.required == len(self.args):
            return Text.plain(str(self.required))
        return say("{low} to {high}", low=self.required, high=len(self.args))


def _sig(
    name: str,
    args: tuple[Arg, ...],
    usage: str,
    summary: str,
    *,
    required: int | None = None,
    variadic: bool = False,
    returns: Type | None = Type.number,
) -> Signature:
    needed = len(args) if required is None else required
    return Signature(name, args, needed, variadic, returns, usage, summary)


N, T, A = Arg.number, Arg.time, Arg.anything

KPI_FUNCTIONS: dict[str, Signature] = {
    s.name: s
    for s in (
        _sig(
            "growth",
            (N, Arg.count),
            "growth(x[, n])",
            "change vs n periods before, as a share",
            required=1,
        ),
        _sig(
            "previous", (N, Arg.count), "previous(x[, n])", "the value n periods before", required=1
        ),
        _sig("last_year", (N,), "last_year(x)", "the value in the same period a year before"),
        _sig(
            "rolling",
            (N, Arg.count, Arg.agg),
            "rolling(x, n[, 'sum'|'avg'|'min'|'max'])",
            "x over the last n periods together (sum), or the avg/min/max of its n values",
            required=2,
        ),
        _sig(
            "to_date",
            (N, Arg.grain),
            "to_date(x[, 'month'|'quarter'|'year'|'fiscal_year'...])",
            "x from the start of the enclosing period (year by default) to each period's end",
            required=1,
        ),
        _sig("ratio", (N, N), "ratio(a, b)", "a / b, empty when b is 0"),
        _sig("min", (N, N), "min(a, b, ...)", "the smallest of its arguments", variadic=True),
        _sig("max", (N, N), "max(a, b, ...)", "the largest of its arguments", variadic=True),
        _sig("abs", (N,), "abs(x)", "absolute value"),
        _sig(
            "coalesce",
            (N, N),
            "coalesce(a, b, ...)",
            "the first argument that is not empty",
            variadic=True,
        ),
    )
}

ROW_FUNCTIONS: dict[str, Signature] = {
    s.name: s
    for s in (
        _sig("abs", (N,), "abs(x)", "absolute value"),
        _sig(
            "coalesce",
            (A, A),
            "coalesce(a, b, ...)",
            "the first argument that is not empty",
            variadic=True,
            returns=None,
        ),
        _sig("is_null", (A,), "is_null(x)", "true when x is empty", returns=Type.boolean),
        _sig(
            "case",
            (A, A),
            "case(condition, value, ..., [otherwise])",
            "the value of the first condition that holds",
            variadic=True,
            returns=None,
        ),
        _sig("minutes_between", (T, T), "minutes_between(start, end)", "minutes from start to end"),
        _sig("hours_between", (T, T), "hours_between(start, end)", "hours from start to end"),
        _sig("days_between", (T, T), "days_between(start, end)", "days from start to end"),
        _sig("lower", (Arg.text,), "lower(text)", "text in lower case", returns=Type.text),
        _sig("upper", (Arg.text,), "upper(text)", "text in upper case", returns=Type.text),
    )
}

FUNCTIONS = {Context.kpi: KPI_FUNCTIONS, Context.row: ROW_FUNCTIONS}

"""Names, arity and types: what the checker accepts in each context and what it reports."""

from __future__ import annotations

import pytest

from tolok.spec.formula import Name, parse_formula
from tolok.spec.functions import KPI_FUNCTIONS, ROW_FUNCTIONS, Context, Type
from tolok.spec.typecheck import Checker, FormulaIssue, Lookup

COLUMNS = {
    "amount": Type.number,
    "status": Type.text,
    "created_at": Type.time,
    "resolved_at": Type.time,
    "is_first": Type.boolean,
    "region": Type.any,
}


def columns(name: Name) -> Lookup:
    if name.name in COLUMNS:
        return Lookup(COLUMNS[name.name])
    return Lookup(None, FormulaIssue("TLK016", f"unknown column '{name.name}'", name.span))


def measures(name: Name) -> Lookup:
    if name.name in ("revenue", "orders", "spend"):
        return Lookup(Type.number)
    return Lookup(None, FormulaIssue("TLK011", f"unknown name '{name.name}'", name.span))


def issues(context: Context, text: str, expected: Type) -> list[tuple[str, str, str]]:
    checker = Checker(context, columns if context is Context.row else measures)
    checker.check(parse_formula(text), expected)
    return [(i.code, i.message, text[i.span.start : i.span.end]) for i in checker.issues]


@pytest.mark.parametrize(
    "text",
    [
        "status == 'resolved'",
        "is_first and amount > 0",
        "status in ('paid', 'shipped') or not is_first",
        "created_at >= '2025-01-01'",
        "'2025-01-01' <= created_at",
        "is_null(resolved_at)",
        "lower(status) == 'paid'",
        "region == 'Bali'",
        "case(amount > 100, 'big', 'small') == 'big'",
        "coalesce(amount, 0) > 5",
    ],
)
def test_valid_conditions(text: str) -> None:
    assert issues(Context.row, text, Type.boolean) == []


@pytest.mark.parametrize(
    "text",
    [
        "amount * 1.11",
        "minutes_between(created_at, resolved_at) / 60",
        "case(status == 'paid', amount, 0)",
        "abs(amount - 10)",
    ],
)
def test_valid_row_expressions(text: str) -> None:
    assert issues(Context.row, text, Type.number) == []


@pytest.mark.parametrize(
    "text",
    [
        "revenue / orders",
        "growth(revenue)",
        "growth(revenue, 12)",
        "rolling(revenue, 3, 'avg')",
        "to_date(revenue) - previous(to_date(revenue), 1)",
        "ratio(revenue - spend, spend)",
        "max(revenue, spend, 0)",
        "coalesce(last_year(revenue), 0)",
        "100",
    ],
)
def test_valid_kpi_formulas(text: str) -> None:
    assert issues(Context.kpi, text, Type.number) == []


@pytest.mark.parametrize(
    ("context", "text", "expected", "found"),
    [
        (
            Context.row,
            "amount * 2",
            Type.boolean,
            [
                (
                    "TLK012",
                    "a `where` condition must be true or false, but this is a number",
                    "amount * 2",
                )
            ],
        ),
        (
            Context.row,
            "status + 1",
            Type.number,
            [("TLK012", "'+' needs numbers; the left side is a text, not a number", "status")],
        ),
        (
            Context.row,
            "amount == 'ten'",
            Type.boolean,
            [("TLK012", "cannot compare a number with a text using '=='", "amount == 'ten'")],
        ),
        (
            Context.row,
            "status > 3",
            Type.boolean,
            [("TLK012", "cannot compare a text with a number using '>'", "status > 3")],
        ),
        (
            Context.row,
            "amount and is_first",
            Type.boolean,
            [
                (
                    "TLK012",
                    "'and' joins conditions; this side is a number, not a condition",
                    "amount",
                )
            ],
        ),
        (
            Context.row,
            "not amount",
            Type.boolean,
            [("TLK012", "'not' needs a condition; this is a number, not a condition", "amount")],
        ),
        (
            Context.row,
            "minutes_between(created_at, amount)",
            Type.number,
            [
                (
                    "TLK012",
                    "argument 2 of minutes_between() must be a date/time; this is a number, "
                    "not a date/time",
                    "amount",
                )
            ],
        ),
        (
            Context.row,
            "days_between(created_at)",
            Type.number,
            [("TLK013", "days_between() takes 2 arguments, got 1", "days_between(created_at)")],
        ),
        (
            Context.row,
            "case(amount, 1, 2)",
            Type.number,
            [("TLK012", "condition 1 of case() is a number, not a condition", "amount")],
        ),
        (
            Context.row,
            "case(is_first, 1, 'x')",
            Type.number,
            [("TLK012", "case() values must all be of one type: a number and a text", "'x'")],
        ),
        (
            Context.row,
            "growth(amount)",
            Type.number,
            [("TLK011", "unknown function 'growth'", "growth")],
        ),
        (Context.row, "amont * 2", Type.number, [("TLK016", "unknown column 'amont'", "amont")]),
        (
            Context.kpi,
            "revenue > 0",
            Type.number,
            [
                (
                    "TLK012",
                    "a KPI formula computes numbers; comparisons belong in a measure's `where`",
                    "revenue > 0",
                ),
                (
                    "TLK012",
                    "a KPI formula must compute a number, but this is a condition",
                    "revenue > 0",
                ),
            ],
        ),
        (
            Context.kpi,
            "growth()",
            Type.number,
            [("TLK013", "growth() takes 1 to 2 arguments, got 0", "growth()")],
        ),
        (
            Context.kpi,
            "last_year(revenue, 2)",
            Type.number,
            [("TLK013", "last_year() takes 1 argument, got 2", "last_year(revenue, 2)")],
        ),
        (
            Context.kpi,
            "growth(revenue, 1.5)",
            Type.number,
            [
                (
                    "TLK012",
                    "argument 2 of growth() must be a whole number of periods, 1 or more",
                    "1.5",
                )
            ],
        ),
        (
            Context.kpi,
            "rolling(revenue, 3, 'median')",
            Type.number,
            [
                (
                    "TLK012",
                    "argument 3 of rolling() must be one of 'sum', 'avg', 'min', 'max'",
                    "'median'",
                )
            ],
        ),
        (
            Context.kpi,
            "rolling(revenue, orders)",
            Type.number,
            [
                (
                    "TLK012",
                    "argument 2 of rolling() must be a whole number of periods, 1 or more",
                    "orders",
                )
            ],
        ),
        (
            Context.kpi,
            "minutes_between(revenue, spend)",
            Type.number,
            [("TLK011", "unknown function 'minutes_between'", "minutes_between")],
        ),
        (
            Context.kpi,
            "grwth(revenue)",
            Type.number,
            [("TLK011", "unknown function 'grwth'", "grwth")],
        ),
        (
            Context.kpi,
            "revenue + 'x'",
            Type.number,
            [("TLK012", "'+' needs numbers; the right side is a text, not a number", "'x'")],
        ),
    ],
)
def test_reported(
    context: Context, text: str, expected: Type, found: list[tuple[str, str, str]]
) -> None:
    assert issues(context, text, expected) == found


def test_unknown_function_hints() -> None:
    checker = Checker(Context.kpi, measures)
    checker.check(parse_formula("grwth(revenue) + minutes_between(revenue, spend)"), Type.number)
    assert [i.hint for i in checker.issues] == [
        "did you mean growth(x[, n])?",
        "minutes_between() can only be used in a measure's expr/where",
    ]


def test_every_function_documented_in_design_exists() -> None:
    for name in ("growth", "previous", "last_year", "rolling", "to_date", "ratio", "min", "max"):
        assert name in KPI_FUNCTIONS
    for name in ("abs", "coalesce"):
        assert name in KPI_FUNCTIONS
        assert name in ROW_FUNCTIONS
    for name in ("minutes_between", "days_between", "case"):
        assert name in ROW_FUNCTIONS

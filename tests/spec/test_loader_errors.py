"""Broken projects: each error's exact file, line, column, code and message."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tolok.spec import load_project


def errors_of(name: str) -> list[tuple[str, int, int, str, str]]:
    loaded = load_project(FIXTURES / name)
    root = loaded.root
    return [
        (p.where.file.relative_to(root).as_posix(), p.where.line, p.where.col, p.code, p.message)
        for p in loaded.problems.errors
    ]


def test_bad_yaml_points_at_the_break_and_the_unclosed_bracket() -> None:
    assert errors_of("bad_yaml") == [
        (
            "tolok.yaml",
            8,
            5,
            "TLK001",
            "YAML cannot be read: expected ',' or '}', but got ':' "
            "(a flow mapping that starts at line 7, column 16)",
        )
    ]


def test_unknown_key_is_one_error_with_a_suggestion() -> None:
    loaded = load_project(FIXTURES / "unknown_key")
    [problem] = loaded.problems.errors
    assert (problem.where.line, problem.where.col) == (11, 5)
    assert problem.message == "unknown key 'formular'"
    assert problem.hint == "did you mean 'formula'?"


def test_unknown_measure() -> None:
    loaded = load_project(FIXTURES / "unknown_measure")
    [problem] = loaded.problems.errors
    assert (problem.where.line, problem.where.col, problem.where.length) == (11, 14, 6)
    assert (problem.code, problem.message) == ("TLK011", "unknown name 'revnue'")
    assert problem.hint == "did you mean 'revenue'?"


def test_kpi_cycle_across_two_files() -> None:
    assert errors_of("kpi_cycle") == [
        ("kpis/a.yaml", 3, 12, "TLK014", "KPIs refer to each other in a cycle: gross → net → gross")
    ]


def test_type_error_in_where() -> None:
    assert errors_of("where_type_error") == [
        (
            "tolok.yaml",
            11,
            47,
            "TLK012",
            "'+' needs numbers; the right side is a text, not a number",
        )
    ]


def test_wrong_function_arity() -> None:
    loaded = load_project(FIXTURES / "wrong_arity")
    [problem] = loaded.problems.errors
    assert (problem.where.line, problem.where.col) == (10, 14)
    assert problem.message == "rolling() takes 2 to 3 arguments, got 1"
    assert problem.hint == "write it as rolling(x, n[, 'sum'|'avg'|'min'|'max'])"


def test_duplicate_name_across_files_names_both_places() -> None:
    assert errors_of("duplicate_name") == [
        (
            "kpis/sales.yaml",
            2,
            1,
            "TLK005",
            "duplicate KPI 'revenue': also defined at kpis/finance.yaml:1:1",
        )
    ]


def test_every_problem_is_reported_in_one_run() -> None:
    assert errors_of("many_problems") == [
        (
            "kpis/more.yaml",
            2,
            28,
            "TLK012",
            "argument 2 of growth() must be a whole number of periods, 1 or more",
        ),
        (
            "kpis/more.yaml",
            3,
            14,
            "TLK004",
            "direction 'band' needs `tolerance`, e.g. 0.05 for ±5% of target",
        ),
        ("kpis/more.yaml", 5, 22, "TLK011", "unknown name 'orders'"),
        ("kpis/more.yaml", 6, 9, "TLK008", "unknown goal 'grow'"),
        (
            "tolok.yaml",
            9,
            18,
            "TLK004",
            "agg 'percentile' needs `p`, the quantile between 0 and 1 (e.g. 0.9)",
        ),
        ("tolok.yaml", 13, 12, "TLK004", "'monthly' is not a valid grain"),
    ]


def test_rendered_problem_has_a_caret_under_the_exact_characters() -> None:
    loaded = load_project(FIXTURES / "unknown_measure")
    [problem] = loaded.problems.errors
    text = problem.render(loaded.root, loaded.lines(problem.where.file))
    assert text.splitlines() == [
        "tolok.yaml:11:14: error[TLK011] unknown name 'revnue'",
        "  11 |     formula: revnue / order_count",
        "                    ^^^^^^",
        "  hint: did you mean 'revenue'?",
    ]


def test_quoted_column_names_work_everywhere_a_column_is_named() -> None:
    loaded = load_project(FIXTURES / "quoted_columns")
    assert loaded.problems.items == []
    assert loaded.project is not None
    dataset = loaded.project.datasets["penjualan"]
    assert dataset.time == "Tanggal Pesan"
    assert dataset.dimensions == ["Wilayah Penjualan", "Kanal (Toko)"]
    assert dataset.key == ["No. Pesanan"]


def write_project(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


ORDERS = """\
name: T
datasets:
  orders:
    source: file:orders.csv
    time: Order Date
    dimensions: [Region]
    measures:
      revenue: {agg: sum, expr: "`Jumlah (Rp)`"}
"""


@pytest.mark.parametrize(
    ("measure", "col", "message"),
    [
        # "      bad: {agg: sum, expr: " is 28 characters: the name starts at 29, or 30 in quotes.
        ('{agg: sum, expr: "`Jumlah Rp`"}', 30, "unknown column 'Jumlah Rp' (not in orders.csv)"),
        ("{agg: sum, expr: Jumlah}", 29, "unknown column 'Jumlah' (not in orders.csv)"),
        ('{agg: count, where: "region == 1"}', 33, "unknown column 'region' (not in orders.csv)"),
    ],
)
def test_unknown_columns_are_found_from_the_csv_header(
    tmp_path: Path, measure: str, col: int, message: str
) -> None:
    write_project(
        tmp_path,
        {
            "tolok.yaml": ORDERS + f"      bad: {measure}\n",
            "orders.csv": "Order Date,Region,Jumlah (Rp)\n2026-01-01,Bali,1000\n",
        },
    )
    loaded = load_project(tmp_path)
    [problem] = loaded.problems.errors
    assert (problem.where.line, problem.where.col, problem.message) == (9, col, message)


def test_unknown_column_suggests_the_quoted_spelling(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "tolok.yaml": ORDERS + "      bad: {agg: count, where: \"region == 'Bali'\"}\n",
            "orders.csv": "Order Date,Region,Jumlah (Rp)\n2026-01-01,Bali,1000\n",
        },
    )
    [problem] = load_project(tmp_path).problems.errors
    assert problem.hint == "did you mean Region?"


def test_time_and_dimension_columns_are_checked(tmp_path: Path) -> None:
    text = ORDERS.replace("time: Order Date", "time: Order Dat").replace("[Region]", "[Regio]")
    write_project(
        tmp_path,
        {"tolok.yaml": text, "orders.csv": "Order Date,Region,Jumlah (Rp)\n2026-01-01,Bali,1\n"},
    )
    problems = load_project(tmp_path).problems.errors
    assert [(p.where.line, p.where.col, p.message, p.hint) for p in problems] == [
        (5, 11, "unknown column 'Order Dat' (not in orders.csv)", "did you mean `Order Date`?"),
        (6, 18, "unknown column 'Regio' (not in orders.csv)", "did you mean Region?"),
    ]


def test_missing_data_file(tmp_path: Path) -> None:
    write_project(tmp_path, {"tolok.yaml": ORDERS})
    [problem] = load_project(tmp_path).problems.errors
    assert (problem.code, problem.where.line, problem.message) == (
        "TLK007",
        4,
        "no file matches 'orders.csv'",
    )


def test_no_project_file(tmp_path: Path) -> None:
    [problem] = load_project(tmp_path).problems.errors
    assert problem.code == "TLK007"
    assert problem.message == f"no tolok.yaml in {tmp_path.resolve()}"


@pytest.mark.parametrize(
    ("kpis", "line", "col", "message"),
    [
        ("  a:\n    formula: x +\n", 11, 17, "formula ends too early"),
        (
            "  a:\n    formula: \"__import__('os').system('x')\"\n",
            11,
            15,
            "only the functions of the formula language can be called",
        ),
        # Block indentation is 6; in "        + growth(revenue, n=2)" the 2 is column 29.
        (
            "  a:\n    formula: |\n      revenue\n        + growth(revenue, n=2)\n",
            13,
            29,
            "named arguments are not supported",
        ),
        ("  a:\n    formula: >\n      revenue\n      / revenu\n", 13, 9, "unknown name 'revenu'"),
        # In a single-quoted scalar two quotes are one: the text literal starts at column 15.
        (
            "  a:\n    formula: '''revenue'' / 2'\n",
            11,
            15,
            "'/' needs numbers; the left side is a text, not a number",
        ),
        (
            "  a:\n    formula: \"revenue / 'promo'\"\n",
            11,
            25,
            "'/' needs numbers; the right side is a text, not a number",
        ),
    ],
)
def test_formula_errors_point_into_every_kind_of_yaml_scalar(
    tmp_path: Path, kpis: str, line: int, col: int, message: str
) -> None:
    write_project(
        tmp_path,
        {
            "tolok.yaml": ORDERS + "kpis:\n" + kpis,
            "orders.csv": "Order Date,Region,Jumlah (Rp)\n2026-01-01,Bali,1000\n",
        },
    )
    loaded = load_project(tmp_path)
    found = [(p.where.line, p.where.col, p.message) for p in loaded.problems.errors]
    assert (line, col, message) in found, found


def test_invalid_names(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "tolok.yaml": "name: T\nkpis:\n  new-buyers:\n    formula: 1\n  in:\n    formula: 2\n",
        },
    )
    problems = load_project(tmp_path).problems.errors
    assert [(p.where.line, p.message, p.hint) for p in problems] == [
        (
            3,
            "'new-buyers' cannot be used as a KPI name",
            "names in formulas use letters, digits and '_', starting with a letter: new_buyers",
        ),
        (
            5,
            "'in' cannot be used as a KPI name",
            "names in formulas use letters, digits and '_', starting with a letter: _in",
        ),
    ]


def test_goal_cycle_and_unknown_parent(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "tolok.yaml": "name: T\n",
            "goals/g.yaml": (
                "a:\n  title: A\n  parent: b\nb:\n  title: B\n  parent: a\n"
                "c:\n  title: C\n  parent: d\n"
            ),
        },
    )
    problems = load_project(tmp_path).problems.errors
    assert [(p.where.line, p.where.col, p.code, p.message) for p in problems] == [
        (3, 11, "TLK014", "goals form a cycle: a → b → a"),
        (6, 11, "TLK014", "goals form a cycle: b → a → b"),
        (9, 11, "TLK008", "unknown goal 'd'"),
    ]


def test_a_broken_measure_does_not_hide_its_siblings(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "tolok.yaml": ORDERS
            + "      broken: {agg: total}\n"
            + "kpis:\n  a:\n    formula: revenue + broken\n  b:\n    formula: revenu\n",
            "orders.csv": "Order Date,Region,Jumlah (Rp)\n2026-01-01,Bali,1000\n",
        },
    )
    problems = load_project(tmp_path).problems.errors
    assert [(p.where.line, p.message) for p in problems] == [
        (9, "'total' is not a valid agg"),
        (14, "unknown name 'revenu'"),
    ]


def test_duplicate_key_in_one_file(tmp_path: Path) -> None:
    write_project(tmp_path, {"tolok.yaml": "name: T\nname: U\n"})
    [problem] = load_project(tmp_path).problems.errors
    assert (problem.where.line, problem.where.col, problem.message) == (
        2,
        1,
        "duplicate key 'name' in this mapping",
    )


TWO_DATASETS = """\
name: T
datasets:
  orders:
    source: shop.orders
    time: ordered_at
    dimensions: [region, channel]
    measures:
      revenue: {agg: sum, expr: amount}
      orders: {agg: count}
  sessions:
    source: shop.sessions
    time: day
    dimensions: [region]
    measures:
      visits: {agg: sum}
kpis:
"""


def test_breakdowns_need_a_dimension_every_dataset_shares(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "tolok.yaml": TWO_DATASETS
            + "  revenue:\n    formula: revenue\n    breakdowns: [region, [region, channel]]\n"
            + "  conversion:\n    formula: orders / visits\n    breakdowns: [region, channel]\n",
        },
    )
    problems = load_project(tmp_path).problems.errors
    assert [(p.where.line, p.where.col, p.message) for p in problems] == [
        (22, 26, "cannot break down by 'channel': dataset 'sessions' does not have it"),
    ]


def test_conversion_measures_are_checked(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "tolok.yaml": TWO_DATASETS.replace(
                "      orders: {agg: count}\n",
                "      orders: {agg: count}\n"
                "      came_back: {agg: conversion, entity: region, to: sesions, within: 7 days}\n"
                "      bad_window: {agg: conversion, entity: region, to: sessions, within: soon}\n"
                "      no_entity: {agg: conversion, to: sessions, within: 1 week}\n",
            ),
        },
    )
    problems = load_project(tmp_path).problems.errors
    assert [(p.where.line, p.message, p.hint) for p in problems] == [
        (10, "unknown dataset 'sesions'", "did you mean 'sessions'?"),
        (11, "'soon' is not a duration; write it as 30 days, 2 weeks, 48 hours", None),
        (
            12,
            "agg 'conversion' needs `entity`, `to` and `within`, e.g. "
            "{agg: conversion, entity: lead_id, to: deals, within: 30 days}",
            None,
        ),
    ]


def test_a_formula_cut_by_a_comma_in_a_flow_mapping_says_to_quote_it(tmp_path: Path) -> None:
    """`{formula: ratio(a, b)}`: YAML ends the value at the comma. Both halves are reported,
    each with the fix: quote the formula."""
    (tmp_path / "data.csv").write_text("day,a,b\n2026-01-01,1,2\n", encoding="utf-8")
    (tmp_path / "tolok.yaml").write_text(
        "name: x\n"
        "datasets:\n"
        "  d: {source: file:data.csv, time: day, measures: {a: {agg: sum}, b: {agg: sum}}}\n"
        "kpis:\n"
        "  share: {formula: ratio(a, b), unit: percent}\n"
        '  fine: {formula: "ratio(a, b)"}\n',
        encoding="utf-8",
    )
    loaded = load_project(tmp_path)
    found = [(p.code, p.where.line, p.where.col, p.hint or "") for p in loaded.problems.errors]
    assert [(code, line, col) for code, line, col, _ in found] == [
        ("TLK010", 5, 25),  # the bracket never closed
        ("TLK002", 5, 29),  # `b)`, read as the next key
    ]
    assert all("quote the formula" in hint for *_, hint in found)

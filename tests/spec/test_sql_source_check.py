"""Datasets from a query (`source: {sql: …}`): what `tolok validate` says about the query,
and exactly where inside the YAML string it says it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tolok.spec import load_project
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import SqlSource
from tolok.spec.queries import read_query, statement, warehouse_dialect
from tolok.spec.schema import project_schema

HEAD = """\
name: Shop
warehouse: {warehouse}
datasets:
  orders:
"""
REST = """\
    time: ordered_at
    measures:
      revenue: {agg: sum, expr: amount}
kpis:
  revenue_kpi: {formula: revenue}
"""


def _load(tmp_path: Path, source: str, warehouse: str = "duckdb:///w.duckdb") -> LoadedProject:
    """A project whose one dataset has `source` (the YAML lines after `orders:`)."""
    text = HEAD.format(warehouse=warehouse) + source + REST
    (tmp_path / "tolok.yaml").write_text(text, encoding="utf-8")
    return load_project(tmp_path)


def _problems(loaded: LoadedProject) -> list[tuple[int, int, int, str, str]]:
    return [
        (p.where.line, p.where.col, p.where.length, p.code, p.message)
        for p in loaded.problems.errors
    ]


def test_a_valid_query_passes(tmp_path: Path) -> None:
    loaded = _load(
        tmp_path,
        "    source: {sql: \"with paid as (select * from shop.orders where status = 'paid') "
        'select * from paid union all select * from shop.old_orders;"}\n',
    )
    assert loaded.ok, _problems(loaded)
    assert loaded.project is not None
    dataset = loaded.project.datasets["orders"]
    assert dataset.sql is not None
    assert dataset.sql.startswith("with paid")
    assert (dataset.table, dataset.file_pattern, dataset.is_manual) == (None, None, False)


def test_a_syntax_error_in_a_quoted_query_points_at_its_column(tmp_path: Path) -> None:
    line = '    source: {sql: "select amount, ordered_at from shop.orders where"}\n'
    loaded = _load(tmp_path, line)
    assert line.index("where") + 1 == 63
    assert _problems(loaded) == [
        (
            5,
            63,
            5,
            "TLK017",
            "the query cannot be read as duckdb SQL: something is missing near 'where'",
        )
    ]


def test_a_syntax_error_in_a_block_query_points_at_its_line_and_column(tmp_path: Path) -> None:
    loaded = _load(
        tmp_path,
        "    source:\n"
        "      sql: |\n"
        "        select amount, ordered_at\n"  # line 7
        "        from shop.orders\n"  # line 8
        "        where (amount > 10\n"  # line 9
        "          and status = 'paid'\n"  # line 10
        "        order by ordered_at\n",  # line 11: the bracket is still open at `order`
    )
    [problem] = loaded.problems.errors
    assert (problem.where.line, problem.where.col, problem.code) == (11, 9, "TLK017")
    assert problem.message == "the query cannot be read as duckdb SQL: expecting ) at 'order by'"


def test_an_unclosed_quote_points_where_it_opens(tmp_path: Path) -> None:
    loaded = _load(
        tmp_path,
        "    source:\n      sql: |\n        select *\n        from t where s = 'paid\n",
    )
    [problem] = loaded.problems.errors
    assert (problem.where.line, problem.where.col) == (8, 26)
    assert problem.message == "the query cannot be read: ' opens here and is never closed"


@pytest.mark.parametrize(
    ("sql", "col", "word"),
    [
        ("drop table shop.orders", 20, "DROP"),
        ("insert into shop.orders select * from shop.staged", 20, "INSERT"),
        ("create view v as select 1", 20, "CREATE"),
    ],
)
def test_ddl_and_dml_are_refused(tmp_path: Path, sql: str, col: int, word: str) -> None:
    loaded = _load(tmp_path, f'    source: {{sql: "{sql}"}}\n')
    [problem] = loaded.problems.errors
    assert (problem.where.line, problem.where.col, problem.where.length) == (5, col, len(word))
    assert problem.code == "TLK017"
    assert problem.message == f"a dataset reads rows with one query: {word} is not allowed here"


def test_a_query_that_writes_inside_is_refused(tmp_path: Path) -> None:
    """PostgreSQL runs a DELETE inside a WITH; SELECT … INTO makes a table."""
    loaded = _load(
        tmp_path,
        "    source:\n      sql: |\n        with gone as (delete from shop.orders returning *)\n"
        "        select * from gone\n",
        warehouse="postgresql://me@db/shop",
    )
    [problem] = loaded.problems.errors
    assert (problem.where.line, problem.where.col, problem.where.length) == (7, 23, 6)
    assert problem.message == "a dataset's query only reads: DELETE would write to the warehouse"


def test_two_statements_are_refused_at_the_second(tmp_path: Path) -> None:
    loaded = _load(
        tmp_path,
        "    source:\n      sql: |\n        select * from shop.orders;\n"
        "        select * from shop.returns\n",
    )
    assert _problems(loaded) == [
        (8, 9, 1, "TLK017", "a dataset reads one query; a second statement starts here")
    ]


def test_a_query_reading_files_is_refused(tmp_path: Path) -> None:
    loaded = _load(tmp_path, "    source: {sql: \"select * from read_csv('data/orders.csv')\"}\n")
    [problem] = loaded.problems.errors
    assert (problem.where.line, problem.where.col, problem.code) == (5, 34, "TLK017")
    assert problem.message == "a dataset's query reads the warehouse's tables; this reads files"
    assert problem.hint is not None
    assert "source: file:PATH" in problem.hint


def test_the_query_is_read_in_the_warehouse_dialect(tmp_path: Path) -> None:
    """Backticks quote a name in MySQL and Spark; PostgreSQL does not know them."""
    sql = '    source: {sql: "select `Order Date` as ordered_at from shop.orders"}\n'
    assert _load(tmp_path, sql, "mysql://root@db/shop").ok
    assert _load(tmp_path, sql, "pyspark://local[1]").ok
    assert [p.code for p in _load(tmp_path, sql, "postgresql://me@db/shop").problems.errors] == [
        "TLK017"
    ]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("    source: {sq: select 1}\n", ("TLK002", "unknown key 'sq'", "did you mean 'sql'?")),
        (
            "    source: {sql: '  '}\n",
            ("TLK004", "`sql` is empty; write one query, e.g. select … from …", None),
        ),
        ("    source: {sql: '-- nothing'}\n", ("TLK017", "the query is empty", None)),
    ],
)
def test_the_source_mapping_itself(
    tmp_path: Path, source: str, expected: tuple[str, str, str | None]
) -> None:
    # (A dataset that fails validation leaves its measures unknown to the KPI, too.)
    [problem] = [p for p in _load(tmp_path, source).problems.errors if p.where.line == 5]
    code, message, hint = expected
    assert (problem.code, problem.message) == (code, message)
    if hint is not None:
        assert problem.hint == hint


def test_dialects_of_warehouse_urls() -> None:
    assert [
        warehouse_dialect(url)
        for url in (
            "duckdb:///w.duckdb",
            "postgres://db/x",
            "postgresql://db/x",
            "mysql://db/x",
            "mariadb://db/x",
            "pyspark://local[*]",
            "trino://db/x",
            "nosuch://x",
        )
    ] == ["duckdb", "postgres", "postgres", "mysql", "mysql", "spark", "trino", None]


def test_an_unknown_warehouse_leaves_the_query_to_the_warehouse(tmp_path: Path) -> None:
    assert _load(tmp_path, '    source: {sql: "select (("}\n', "nosuch://x").ok


def test_the_statement_is_handed_over_without_what_surrounds_it() -> None:
    text = "-- monthly\nselect a\nfrom t; -- done\n;\n"
    assert statement(text, "duckdb") == "select a\nfrom t"
    assert read_query(text, "duckdb") is None


def test_the_json_schema_shows_the_query_form() -> None:
    schema = project_schema()
    source = schema["$defs"]["Dataset"]["properties"]["source"]
    assert {"$ref": "#/$defs/SqlSource"} in source["oneOf"]
    assert "{sql:" in source["description"]
    sql = schema["$defs"]["SqlSource"]["properties"]["sql"]
    assert sql["minLength"] == 1
    assert "subquery" in sql["description"]
    assert SqlSource.model_json_schema()["additionalProperties"] is False

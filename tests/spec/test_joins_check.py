"""`tolok validate` on joins and snapshots: each mistake is an error at its file, line and
column, with what to do about it."""

from __future__ import annotations

from pathlib import Path

from tolok.spec import load_project

HEAD = """\
name: Shop
datasets:
  orders:
    source: file:orders.csv
    time: day
    refs: REFS
    measures:
      revenue: {agg: sum, expr: amount, where: "WHERE"}
  customers:
    source: file:customers.csv
    key: [KEY]
    dimensions: [segment]
kpis:
  revenue: {formula: revenue, breakdowns: [[BY]]}
"""


def _problems(
    tmp_path: Path,
    refs: str = "{customer_id: customers}",
    where: str = "amount > 0",
    key: str = "customer_id",
    by: str = "customers.segment",
    extra: str = "",
) -> list[tuple[int, int, str, str]]:
    (tmp_path / "orders.csv").write_text("day,customer_id,amount\n2026-01-01,c1,5\n")
    (tmp_path / "customers.csv").write_text("customer_id,segment,signup\nc1,retail,2025-01-01\n")
    text = HEAD.replace("REFS", refs).replace("WHERE", where).replace("KEY", key).replace("BY", by)
    (tmp_path / "tolok.yaml").write_text(text + extra, encoding="utf-8")
    loaded = load_project(tmp_path)
    return [(p.where.line, p.where.col, p.code, p.message) for p in loaded.problems.errors]


def test_a_join_through_a_key_is_valid(tmp_path: Path) -> None:
    assert _problems(tmp_path, where="customers.segment == 'retail'") == []


def test_an_unknown_joined_dataset(tmp_path: Path) -> None:
    found = _problems(tmp_path, refs="{customer_id: clients}", by="region")
    assert (6, 25, "TLK008", "unknown dataset 'clients'") in found


def test_an_unknown_column_of_a_lookup(tmp_path: Path) -> None:
    found = _problems(tmp_path, where="customers.segmnt == 'retail'")
    assert len(found) == 1
    line, col, code, message = found[0]
    assert (line, code) == (8, "TLK016")
    assert "unknown column 'segmnt'" in message
    assert "customers.csv" in message
    assert col == 49  # at `customers.segmnt` inside the quoted where


def test_a_lookup_that_is_not_referred_to(tmp_path: Path) -> None:
    found = _problems(tmp_path, refs="{}", where="customers.segment == 'retail'", by="segment")
    messages = [f[3] for f in found]
    assert any("'customers' is not a dataset this one refers to" in m for m in messages)


def test_a_join_with_no_key(tmp_path: Path) -> None:
    found = _problems(tmp_path, key="")
    assert any(
        f[2] == "TLK004" and "needs `key: [one column]`" in f[3] and f[0] == 6 for f in found
    ), found


def test_a_breakdown_no_dataset_reaches(tmp_path: Path) -> None:
    found = _problems(tmp_path, by="customers.region")
    assert [(f[0], f[2]) for f in found] == [(14, "TLK016")]
    assert "cannot break down by 'customers.region'" in found[0][3]


def test_a_ref_column_the_data_lacks(tmp_path: Path) -> None:
    found = _problems(tmp_path, refs="{client_id: customers}", by="region")
    assert any(f[:3] == (6, 12, "TLK016") and "unknown column 'client_id'" in f[3] for f in found)


def test_a_level_in_a_snapshot_and_measures_without_time(tmp_path: Path) -> None:
    extra = """\
  states:
    source: file:customers.csv
    time: none
    measures:
      n: {agg: count, over_time: last}
  lookups_with_measures:
    source: file:customers.csv
    measures:
      m: {agg: count}
"""
    text = HEAD.replace("kpis:\n  revenue: {formula: revenue, breakdowns: [[BY]]}\n", "")
    found = _problems(tmp_path, by="customers.segment", extra="")
    assert found == []
    (tmp_path / "tolok.yaml").write_text(
        text.replace("REFS", "{customer_id: customers}")
        .replace("WHERE", "amount > 0")
        .replace("KEY", "customer_id")
        + extra,
        encoding="utf-8",
    )
    problems = load_project(tmp_path).problems.errors
    located = {(p.where.line, p.code) for p in problems}
    assert (17, "TLK004") in located  # over_time in a snapshot
    assert any("`time: none`" in p.message and p.where.line == 19 for p in problems), [
        (p.where.line, p.message) for p in problems
    ]

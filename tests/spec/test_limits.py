"""A project file is bounded: its size, its aliases expanded, its nesting, the number of
definitions. Over a limit is a TLK001 problem at its place, never a hang or a crash."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tolok.cli import app
from tolok.spec.loader import MAX_DEFINITIONS, load_project
from tolok.spec.source import MAX_FILE_BYTES, MAX_NESTING, MAX_VALUES

runner = CliRunner()


def _write(root: Path, text: str, name: str = "tolok.yaml") -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return root


def _alias_bomb(root: Path) -> Path:
    """The reported file: nine KPIs whose tags each repeat the previous anchor ten times
    (10**9 tags once expanded)."""
    lines = [
        "name: Bomb",
        "kpis:",
        "  k0: {formula: '1', tags: &a0 [x, x, x, x, x, x, x, x, x, x]}",
    ]
    for level in range(1, 9):
        repeats = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"  k{level}: {{formula: '1', tags: &a{level} [{repeats}]}}")
    return _write(root, "\n".join(lines) + "\n")


def test_an_alias_bomb_is_tlk001_at_the_list_that_expands_past_the_limit(tmp_path: Path) -> None:
    loaded = load_project(_alias_bomb(tmp_path))

    assert loaded.project is None
    [problem] = loaded.problems.errors
    assert problem.code == "TLK001"
    assert f"more than {MAX_VALUES:,} values" in problem.message
    assert "*a4" in problem.message
    # k5's tags (line 8) are the first to hold more than a million values: 10 x 111,111.
    assert (problem.where.file.name, problem.where.line, problem.where.col) == ("tolok.yaml", 8, 28)


def test_validate_reports_the_alias_bomb(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(_alias_bomb(tmp_path))])

    assert result.exit_code == 1
    assert "tolok.yaml:8:28: error[TLK001] with aliases (*a4) expanded" in result.output


def test_the_limit_on_expanded_values_holds_across_the_project_s_files(tmp_path: Path) -> None:
    """Ten files of 123,000 values each are as much work as one file of 1.2 million."""
    _write(tmp_path, "name: Shop\n")
    for number in range(10):
        lines = [f"k{number}_0: {{formula: '1', tags: &a0 [x, x, x, x, x, x, x, x, x, x]}}"]
        for level in range(1, 5):
            repeats = ", ".join([f"*a{level - 1}"] * 10)
            lines.append(f"k{number}_{level}: {{formula: '1', tags: &a{level} [{repeats}]}}")
        _write(tmp_path, "\n".join(lines) + "\n", f"kpis/part{number}.yaml")

    loaded = load_project(tmp_path)

    # (Tags of tags are no tags: each KPI read is also a TLK004, beside the point here.)
    over = [p for p in loaded.problems.errors if p.code == "TLK001"]
    assert [p.where.file.name for p in over] == ["part8.yaml", "part9.yaml"]
    assert f"the project's files hold more than {MAX_VALUES:,} values" in over[0].message


def test_the_server_refuses_a_project_with_an_alias_bomb(tmp_path: Path) -> None:
    from tolok.server.app import create_app

    with pytest.raises(ValueError, match="does not validate"):
        create_app(_alias_bomb(tmp_path), schedules=False)


def test_a_file_over_the_size_limit_is_tlk001_naming_the_limit(tmp_path: Path) -> None:
    padding = "# " + "x" * 98 + "\n"
    text = "name: Big\n" + padding * (MAX_FILE_BYTES // len(padding) + 1)
    loaded = load_project(_write(tmp_path, text))

    [problem] = loaded.problems.errors
    assert problem.code == "TLK001"
    assert "larger than 5,000,000 bytes (5 MB)" in problem.message
    assert (problem.where.line, problem.where.col) == (1, 1)


def test_a_kpi_file_over_the_size_limit_leaves_the_rest_of_the_project_checked(
    tmp_path: Path,
) -> None:
    _write(tmp_path, "name: Shop\nkpis:\n  one: {formula: nothing_here}\n")
    entry = "k{}: {{formula: '1', title: '" + "x" * 80 + "'}}\n"
    lines = [entry.format(i) for i in range(MAX_FILE_BYTES // 100 + 1)]
    _write(tmp_path, "".join(lines), "kpis/huge.yaml")

    loaded = load_project(tmp_path)

    codes = sorted((p.code, p.where.file.name) for p in loaded.problems.errors)
    assert codes == [("TLK001", "huge.yaml"), ("TLK011", "tolok.yaml")]


def test_aliases_used_a_few_times_still_work(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "name: Shop\n"
        "datasets:\n"
        "  spend:\n"
        "    source: manual\n"
        "    measures:\n"
        "      ads: {agg: sum}\n"
        "      salaries: {agg: sum}\n",
    )
    _write(
        tmp_path,
        "ads: &money\n"
        "  formula: ads\n"
        "  unit: currency\n"
        "  direction: down\n"
        "  tags: &cost [cost, monthly]\n"
        "salaries:\n"
        "  <<: *money\n"
        "  formula: salaries\n"
        "total:\n"
        "  <<: *money\n"
        "  formula: ads + salaries\n"
        "  tags: *cost\n",
        "kpis/costs.yaml",
    )

    loaded = load_project(tmp_path)

    assert loaded.ok, [p.message for p in loaded.problems.items]
    assert loaded.project is not None
    kpis = loaded.project.kpis
    assert [kpis[n].unit.value for n in ("ads", "salaries", "total")] == ["currency"] * 3
    assert kpis["total"].tags == ["cost", "monthly"]
    assert kpis["salaries"].formula == "salaries"


def test_nesting_too_deep_is_tlk001(tmp_path: Path) -> None:
    deep = "[" * (MAX_NESTING + 5) + "]" * (MAX_NESTING + 5)
    loaded = load_project(
        _write(tmp_path, f"name: Deep\nkpis:\n  a: {{formula: '1', tags: {deep}}}\n")
    )

    [problem] = loaded.problems.errors
    assert problem.code == "TLK001"
    assert f"nested more than {MAX_NESTING} levels" in problem.message
    assert problem.where.line == 3


def test_thousands_of_brackets_are_tlk001_before_the_yaml_reader_sees_them(
    tmp_path: Path,
) -> None:
    deep = "[" * 3000 + "]" * 3000
    text = f"name: Deep\nkpis:\n  a: {{formula: '1', tags: {deep}}}\n"
    loaded = load_project(_write(tmp_path, text))

    [problem] = loaded.problems.errors
    assert problem.code == "TLK001"
    assert f"nested more than {MAX_NESTING} levels" in problem.message
    # The `{` of the KPI opens one level: the 100th `[` after it opens the 101st.
    opened = len("  a: {formula: '1', tags: ") + 2 * MAX_NESTING
    assert (problem.where.line, problem.where.col) == (3, opened)


def test_nesting_past_the_yaml_reader_is_tlk001_not_a_crash(tmp_path: Path) -> None:
    levels = "".join(" " * (i + 2) + f"k{i}:\n" for i in range(3000))
    loaded = load_project(_write(tmp_path, f"name: Deep\nlint:\n{levels}"))

    [problem] = loaded.problems.errors
    assert problem.code == "TLK001"
    assert "nested too deeply" in problem.message


def test_more_kpis_than_the_limit_is_tlk001_at_the_first_one_over(tmp_path: Path) -> None:
    kpis = "".join(f"  k{i}: {{formula: '1'}}\n" for i in range(MAX_DEFINITIONS + 1))
    loaded = load_project(_write(tmp_path, "name: Many\nkpis:\n" + kpis))

    [problem] = loaded.problems.errors
    assert problem.code == "TLK001"
    assert f"more than {MAX_DEFINITIONS:,} KPIs" in problem.message
    assert problem.where.line == 3 + MAX_DEFINITIONS
    assert loaded.project is not None
    assert len(loaded.project.kpis) == MAX_DEFINITIONS


def _literal_project(root: Path, literal: str) -> Path:
    return _write(
        root,
        "name: Shop\n"
        "datasets:\n"
        "  spend:\n"
        "    source: manual\n"
        "    measures:\n"
        "      ads: {agg: sum}\n"
        "kpis:\n"
        "  ads: {formula: ads}\n"
        f"  huge: {{formula: ads * {literal}}}\n",
    )


def test_validate_refuses_a_400_digit_literal_at_its_place(tmp_path: Path) -> None:
    """The reported formula: it validated, then every KPI of the refresh failed."""
    result = runner.invoke(app, ["validate", str(_literal_project(tmp_path, "9" * 400))])

    assert result.exit_code == 1
    # `  huge: {formula: ads * ` is 24 characters: the literal starts at column 25.
    assert "tolok.yaml:9:25: error[TLK010] the number 99999999…9999 (400 digits) is too large" in (
        result.output
    )


@pytest.mark.parametrize(
    ("literal", "ok"),
    [("9223372036854775807", True), ("9223372036854775808", False), ("1e308", True),
     ("1e999", False), ("1e20", True)],
)  # fmt: skip
def test_number_literals_are_bounded(tmp_path: Path, literal: str, ok: bool) -> None:
    loaded = load_project(_literal_project(tmp_path, literal))

    assert [(p.code, p.where.line, p.where.col) for p in loaded.problems.errors] == (
        [] if ok else [("TLK010", 9, 25)]
    )

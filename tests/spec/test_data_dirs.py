"""`file:` sources read the project folder and the folders `data_dirs:` lists, nothing else:
judged by where a path really is (symlinks and `..` resolved), at validation (TLK018) and
again when the engine reads, for a project never validated."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tolok.engine.errors import WarehouseError
from tolok.engine.refresh import refresh_into_store
from tolok.engine.warehouse import Warehouse
from tolok.spec.loader import load_project
from tolok.store.database import open_store
from tolok.store.schema import Result

ROWS = "day,amount\n2026-01-05,10\n2026-02-07,20\n"


def _project(root: Path, source: str, settings: str = "") -> Path:
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "data" / "orders.csv").write_text(ROWS, encoding="utf-8")
    (root / "tolok.yaml").write_text(
        "name: Shop\n"
        "timezone: UTC\n"
        "warehouse: duckdb://\n"
        f"{settings}"
        "datasets:\n"
        "  orders:\n"
        "    source: file:data/orders.csv\n"
        "    time: day\n"
        "    measures:\n"
        "      revenue: {agg: sum, expr: amount}\n"
        "  other:\n"
        f"    source: {source}\n"
        "    time: day\n"
        "    measures:\n"
        "      other_revenue: {agg: sum, expr: amount}\n"
        "kpis:\n"
        "  revenue: {formula: revenue}\n"
        "  other_revenue: {formula: other_revenue}\n",
        encoding="utf-8",
    )
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the project, with a CSV file that would validate and compute."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "other.csv").write_text(ROWS, encoding="utf-8")
    return folder


def _errors(root: Path) -> list[tuple[str, int, int, str]]:
    loaded = load_project(root)
    return [(p.code, p.where.line, p.where.col, p.message) for p in loaded.problems.errors]


def test_the_reported_path_up_to_etc_passwd_is_refused_at_its_place(tmp_path: Path) -> None:
    root = _project(tmp_path / "shop", "file:../../../../etc/passwd")

    [(code, line, col, message)] = _errors(root)

    assert (code, line, col) == ("TLK018", 11, 13)
    assert "'../../../../etc/passwd' is outside the project folder" in message


def test_dot_dot_out_of_the_project_is_refused(tmp_path: Path, outside: Path) -> None:
    root = _project(tmp_path / "shop", "file:data/../../elsewhere/other.csv")

    [(code, line, _, message)] = _errors(root)

    assert (code, line) == ("TLK018", 11)
    assert "data/../../elsewhere/other.csv" in message


def test_a_symlink_inside_the_project_to_a_file_outside_is_refused(
    tmp_path: Path, outside: Path
) -> None:
    root = _project(tmp_path / "shop", "file:data/*.csv")
    (root / "data" / "linked.csv").symlink_to(outside / "other.csv")

    [(code, line, _, message)] = _errors(root)

    assert (code, line) == ("TLK018", 11)
    assert f"data/linked.csv, which is really {outside / 'other.csv'}" in message


def test_an_absolute_path_outside_is_refused(tmp_path: Path, outside: Path) -> None:
    root = _project(tmp_path / "shop", f"file:{outside}/*.csv")

    [(code, line, _, _)] = _errors(root)

    assert (code, line) == ("TLK018", 11)


@pytest.mark.parametrize("listed", ["../elsewhere", "ABSOLUTE"])
def test_a_folder_listed_in_data_dirs_may_be_read(
    tmp_path: Path, outside: Path, listed: str
) -> None:
    folder = str(outside) if listed == "ABSOLUTE" else listed
    root = _project(tmp_path / "shop", f"file:{outside}/other.csv", f"data_dirs: ['{folder}']\n")

    loaded = load_project(root)

    assert loaded.ok, [p.message for p in loaded.problems.items]
    assert loaded.project is not None
    assert loaded.project.data_dirs == [folder]


def test_columns_of_a_file_in_data_dirs_are_checked(tmp_path: Path, outside: Path) -> None:
    root = _project(tmp_path / "shop", "file:../elsewhere/other.csv", "data_dirs: [../elsewhere]\n")
    text = (root / "tolok.yaml").read_text(encoding="utf-8")
    (root / "tolok.yaml").write_text(
        text.replace(
            "other_revenue: {agg: sum, expr: amount}", "other_revenue: {agg: sum, expr: amont}"
        ),
        encoding="utf-8",
    )

    [(code, line, _, message)] = _errors(root)

    assert (code, line) == ("TLK016", 15)
    assert "amont" in message


def test_the_engine_does_not_read_it_even_when_validation_was_skipped(
    tmp_path: Path, outside: Path
) -> None:
    root = _project(tmp_path / "shop", "file:../elsewhere/other.csv")
    loaded = load_project(root)
    assert [p.code for p in loaded.problems.errors] == ["TLK018"]

    with pytest.raises(WarehouseError, match="outside the project folder") as raised:
        Warehouse(loaded).table("other")
    assert raised.value.where is not None
    assert raised.value.where.line == 11

    store = open_store(f"sqlite:///{tmp_path / 'tolok.db'}")
    refreshed, stored = refresh_into_store(loaded, Warehouse(loaded), store)

    assert list(stored.failed) == ["other_revenue"]
    failure = stored.failed["other_revenue"]
    assert failure.where is not None
    assert (failure.where.file.name, failure.where.line) == ("tolok.yaml", 11)
    with Session(store) as session:
        kept = set(session.scalars(select(Result.kpi).distinct()))
    assert kept == {"revenue"}
    assert [p.value for p in refreshed.totals["revenue"].points] == [10.0, 20.0]


def test_the_server_refuses_a_project_reading_outside(tmp_path: Path, outside: Path) -> None:
    from tolok.server.app import create_app

    root = _project(tmp_path / "shop", "file:../elsewhere/other.csv")

    with pytest.raises(ValueError, match="does not validate"):
        create_app(root, schedules=False)

"""A refresh keeps its values and the definition versions; a definition change restates
values and keeps the ones first reported."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tests.conftest import EXAMPLE
from tolok.engine.compute import Request, compute
from tolok.engine.refresh import refresh_into_store
from tolok.engine.warehouse import Warehouse
from tolok.spec import load_project
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import Grain
from tolok.store import reader
from tolok.store.database import connect, open_store, upgrade
from tolok.store.results import load
from tolok.store.versions import history


@pytest.fixture
def project(tmp_path: Path) -> Path:
    target = tmp_path / "toko"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("*.duckdb*", "tolok.db*"))
    return target


@pytest.fixture
def store_url(store_url: str) -> str:
    """The store as `tolok db upgrade` leaves it (SQLite would upgrade itself anyway)."""
    upgrade(connect(store_url))
    return store_url


def run(folder: Path, store_url: str, reason: str | None = None) -> LoadedProject:
    loaded = load_project(folder)
    assert loaded.ok
    refresh_into_store(loaded, Warehouse(loaded), open_store(store_url), reason)
    return loaded


def edit(folder: Path, file: str, old: str, new: str) -> None:
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_stored_values_are_the_computed_ones(project: Path, store_url: str) -> None:
    loaded = run(project, store_url)
    store = open_store(store_url)
    computed = compute(loaded, Warehouse(loaded), Request(("revenue", "nps"), Grain.month))
    for name in ("revenue", "nps"):
        stored = load(store, name, "month", ())
        assert [(p.period, p.value) for p in stored] == [
            (p.period, p.value) for p in computed[name].points
        ]
        assert {p.version for p in stored} == {1}
    by_region = load(store, "revenue", "month", ("Region",))
    regions = {p.slice for p in by_region}
    assert ("Bali",) in regions
    assert len(regions) == 6


def test_definition_changes_make_versions_and_restate_values(project: Path, store_url: str) -> None:
    run(project, store_url)
    store = open_store(store_url)
    before = load(store, "average_purchase_value", "month", ())
    # A new title: a version, values untouched.
    edit(project, "kpis/sales.yaml", "title: Average purchase value", "title: Basket size")
    run(project, store_url, reason="clearer name")
    # A new formula: a version that restates the values.
    edit(project, "kpis/sales.yaml", "formula: revenue / paid_orders", "formula: revenue / buyers")
    run(project, store_url, reason="per buyer, not per order")
    with Session(store) as session:
        versions = history(session, "average_purchase_value")
        assert [(v.number, v.reason) for v in versions] == [
            (1, None),
            (2, "clearer name"),
            (3, "per buyer, not per order"),
        ]
        assert '-    "formula": "revenue / paid_orders",' in versions[2].diff
        assert '+    "formula": "revenue / buyers",' in versions[2].diff
        assert "Basket size" in versions[1].diff
    after = load(store, "average_purchase_value", "month", ())
    reported = load(store, "average_purchase_value", "month", (), as_reported=True)
    assert [p.value for p in reported] == [p.value for p in before]
    # Computed under v1: the new title (v2) changed nothing to compute, so the refresh that
    # recorded v2 left the values alone.
    assert {p.version for p in reported} == {1}
    assert [p.value for p in after] != [p.value for p in before]
    assert {p.version for p in after} == {3}
    # Other KPIs did not change version.
    with Session(store) as session:
        assert [v.number for v in history(session, "revenue")] == [1]


def test_the_standard_library_reader_reads_what_sqlalchemy_reads(project: Path) -> None:
    url = f"sqlite:///{project / 'tolok.db'}"
    run(project, url)
    edit(project, "kpis/service.yaml", "formula: satisfied / responses", "formula: satisfied")
    run(project, url)
    store = open_store(url)
    connection = reader.connect(project / "tolok.db")
    for key in [("csat", "month", ()), ("revenue", "month", ("Channel",))]:
        for as_reported in (False, True):
            assert reader.load(connection, *key, as_reported) == load(store, *key, as_reported)
    assert sorted(reader.stored_series(connection, "revenue")) == [
        ("month", ()),
        ("month", ("Channel",)),
        ("month", ("Region",)),
    ]

"""Typed-in values: checked, stored, edited with an audit trail, and used by KPIs."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tests.conftest import EXAMPLE
from tolok.engine.compute import Request, compute
from tolok.engine.warehouse import Warehouse
from tolok.spec import load_project
from tolok.spec.models import Grain, Project
from tolok.store.database import connect, open_store, upgrade
from tolok.store.manual import EntryError, audit_trail, enter, make_entry, read_csv, source


@pytest.fixture
def project(tmp_path: Path) -> Path:
    target = tmp_path / "toko"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("*.duckdb*", "tolok.db*"))
    return target


def spec(folder: Path) -> Project:
    loaded = load_project(folder)
    assert loaded.project is not None
    return loaded.project


def test_entries_are_checked_against_the_project(project: Path) -> None:
    toko = spec(project)
    entry = make_entry(toko, "ad_spend", "spend", "2026-03", "1500000", {"platform": "meta"})
    assert (entry.grain, entry.period, entry.slice, entry.value) == (
        Grain.month,
        dt.date(2026, 3, 1),
        (("platform", "meta"),),
        1_500_000.0,
    )
    cases = [
        (("orders", "revenue", "2026-03", "1", {}), "'orders' is not a manual dataset"),
        (("ad_spend", "spnd", "2026-03", "1", {}), "dataset 'ad_spend' has no measure 'spnd'"),
        (("ad_spend", "spend", "March", "1", {}), "'March' is not a period label"),
        (("ad_spend", "spend", "2026-03", "lots", {}), "'lots' is not a number"),
        (("ad_spend", "spend", "2026-03", "nan", {}), "'nan' is not a number"),
        (("ad_spend", "spend", "2026-03", "1", {"region": "x"}), "'region' is not a dimension"),
    ]
    for arguments, message in cases:
        with pytest.raises(EntryError) as caught:
            make_entry(toko, *arguments)  # type: ignore[arg-type]
        assert caught.value.message.startswith(message)


def test_a_bad_csv_row_is_reported_by_line_and_nothing_is_read(project: Path) -> None:
    csv_file = project / "spend.csv"
    csv_file.write_text(
        "measure,period,value,platform\nspend,2026-01,100,meta\nspend,2026-02,abc,meta\n",
        encoding="utf-8",
    )
    with pytest.raises(EntryError) as caught:
        read_csv(spec(project), "ad_spend", csv_file)
    assert (caught.value.line, caught.value.message) == (3, "'abc' is not a number")


def test_entering_editing_and_the_audit_trail(project: Path, store_url: str) -> None:
    toko = spec(project)
    upgrade(connect(store_url))
    store = open_store(store_url)
    first = make_entry(toko, "ad_spend", "spend", "2026-10", 100, {"platform": "meta"})
    with Session(store) as session, session.begin():
        [outcome] = enter(session, toko, [first], "budi")
        assert outcome.before is None
    edit = make_entry(toko, "ad_spend", "spend", "2026-10", 120, {"platform": "meta"})
    same = make_entry(toko, "ad_spend", "spend", "2026-10", 120, {"platform": "meta"})
    with Session(store) as session, session.begin():
        outcomes = enter(session, toko, [edit], "dewi")
        again = enter(session, toko, [same], "dewi")
    assert [o.before for o in outcomes + again] == [100.0, 120.0]
    assert [(v.period, v.value) for v in source(store)("ad_spend")] == [
        (dt.date(2026, 10, 1), 120.0)
    ]
    with Session(store) as session:
        trail = [(a.actor, a.action, a.subject, a.before, a.after) for a in audit_trail(session)]
    assert trail == [
        (
            "budi",
            "manual_value.enter",
            "ad_spend.spend 2026-10 [platform=meta]",
            None,
            json.dumps({"value": 100.0}),
        ),
        (
            "dewi",
            "manual_value.edit",
            "ad_spend.spend 2026-10 [platform=meta]",
            json.dumps({"value": 100.0}),
            json.dumps({"value": 120.0}),
        ),
    ]


def test_kpis_use_typed_in_values_at_their_grain_and_coarser(project: Path) -> None:
    url = f"sqlite:///{project / 'tolok.db'}"
    store = open_store(url)
    toko = spec(project)
    entries = [
        make_entry(toko, "ad_spend", "spend", "2026-10", 600, {"platform": "meta"}),
        make_entry(toko, "ad_spend", "spend", "2026-10", 400, {"platform": "google"}),
        make_entry(toko, "ad_spend", "spend", "2026-11", 500, {"platform": "google"}),
    ]
    with Session(store) as session, session.begin():
        enter(session, toko, entries, "budi")
    loaded = load_project(project)
    warehouse = Warehouse(loaded, manual=source(store))
    months = compute(
        loaded,
        warehouse,
        Request(
            ("cac", "new_customers"),
            Grain.month,
            start=dt.date(2026, 9, 1),
            end=dt.date(2026, 11, 30),
        ),
    )
    buyers = {p.label: p.value for p in months["new_customers"].points}
    cac = {p.label: p.value for p in months["cac"].points}
    assert cac["2026-09"] is None  # nothing typed in for September
    assert cac["2026-10"] == pytest.approx(1000 / buyers["2026-10"])  # type: ignore[operator]
    assert cac["2026-11"] == pytest.approx(500 / buyers["2026-11"])  # type: ignore[operator]
    quarter = compute(
        loaded,
        warehouse,
        Request(
            ("marketing_roi", "revenue"),
            Grain.quarter,
            start=dt.date(2026, 10, 1),
            end=dt.date(2026, 12, 31),
        ),
    )
    revenue = quarter["revenue"].points[0].value
    assert quarter["marketing_roi"].points[0].value == pytest.approx((revenue - 1500) / 1500)  # type: ignore[operator]
    weeks = compute(
        loaded,
        warehouse,
        Request(("cac",), Grain.week, start=dt.date(2026, 10, 5), end=dt.date(2026, 10, 18)),
    )
    # A month's spend belongs to no single week.
    assert [p.value for p in weeks["cac"].points] == [None, None]


def test_csv_rows_that_are_short_or_unreadable(project: Path) -> None:
    toko = spec(project)
    short = project / "short.csv"
    short.write_text("measure,period,value,platform\nspend,2026-05\n", encoding="utf-8")
    with pytest.raises(EntryError) as caught:
        read_csv(toko, "ad_spend", short)
    assert (caught.value.line, caught.value.message) == (
        2,
        "the row does not have as many values as the header",
    )
    latin = project / "latin.csv"
    latin.write_bytes("measure,period,value,platform\nspend,2026-05,1,caf\xe9\n".encode("latin-1"))
    with pytest.raises(EntryError, match="is not UTF-8 text"):
        read_csv(toko, "ad_spend", latin)
    with pytest.raises(EntryError, match="cannot read"):
        read_csv(toko, "ad_spend", project / "missing.csv")

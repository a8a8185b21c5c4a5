"""The KPI page's open period shows where it heads at this pace and the model's forecast of
its end; when the two point to different statuses, one sentence says what each is (issue
21, item 7) — both read from the one outlook (`tolok.answers.outlook`), never judged again.

Signups of 120 a month from June to November against a target of 100, and 10 by 16
December: 21 at this pace (off track), while a model of the months before ends December
near 120 (on track). Visits, 100 a month and 60 by the 16th, head on track both ways."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.server.conftest import PASSWORD, Shop

TODAY = dt.date(2026, 12, 16)
PROJECT = """\
name: Toko Laju
locale: en
currency: IDR
timezone: UTC
warehouse: duckdb:///warehouse.duckdb
store: sqlite:///tolok.db
datasets:
  book:
    source: file:book.csv
    time: day
    measures:
      signups: {agg: sum, expr: amount, where: "kind == 'signups'"}
      visits: {agg: sum, expr: amount, where: "kind == 'visits'"}
kpis:
  signups:
    title: Signups
    formula: signups
    unit: count
    target: {value: 100, from: 2026-06}
  visits:
    title: Visits
    formula: visits
    unit: count
    target: {value: 100, from: 2026-06}
"""
MONTHS = [dt.date(2026, m, 10) for m in range(6, 12)]  # June to November, closed
SAID = {
    "en": "They differ because \u201cat this pace\u201d carries the period so far on at the same "
    "rate, while the forecast is a model of the periods before it.",
    "id": "Keduanya berbeda karena \u201cdengan laju ini\u201d meneruskan periode berjalan dengan "
    "laju yang sama, sedangkan prakiraan adalah model dari periode-periode sebelumnya.",
}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    from tolok.auth import accounts
    from tolok.engine.refresh import refresh_into_store
    from tolok.engine.warehouse import Warehouse
    from tolok.server.app import create_app
    from tolok.spec.loader import load_project
    from tolok.store.database import open_store, store_url

    root = tmp_path_factory.mktemp("laju")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TOLOK_TODAY", TODAY.isoformat())
        patch.delenv("TOLOK_NOW", raising=False)
        (root / "tolok.yaml").write_text(PROJECT, encoding="utf-8")
        lines = ["day,kind,amount"]
        lines += [f"{d},signups,120" for d in MONTHS] + [f"{d},visits,100" for d in MONTHS]
        lines += ["2026-12-05,signups,10", "2026-12-05,visits,60"]
        (root / "book.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        loaded = load_project(root)
        assert loaded.project is not None, loaded.problems
        engine = open_store(store_url(loaded.project.store, root))
        refresh_into_store(loaded, Warehouse(loaded), engine)
        with Session(engine) as session, session.begin():
            accounts.add_user(session, "viewer@example.com", "Viewer", "viewer", "test", PASSWORD)
        engine.dispose()
        with TestClient(create_app(root, schedules=False)) as client:
            yield Shop(root, client, [], TODAY)


def open_of(shop: Shop, name: str) -> dict[str, Any]:
    page = shop.browser("viewer@example.com").get(f"/kpis/{name}.json").json()
    found: dict[str, Any] = page["card"]["open"]
    return found


def test_pace_and_forecast_that_differ_are_explained_in_both_languages(shop: Shop) -> None:
    signups = open_of(shop, "signups")
    assert signups["heading"] == "off_track"  # 10 in 15 of 31 days: 21 of 100 at this pace
    assert signups["projected_text"] == "21"
    assert signups["forecast"] >= 100  # the model's end of December reaches the target
    assert signups["forecast_heading"] == "on_track"
    assert signups["differ_text"] == SAID["en"]
    viewer = shop.browser("viewer@example.com")
    for lang, said in SAID.items():
        assert said in viewer.get("/kpis/signups", params={"lang": lang}).text


def test_pace_and_forecast_that_agree_need_no_sentence(shop: Shop) -> None:
    visits = open_of(shop, "visits")
    assert visits["forecast"] >= 100
    assert (visits["heading"], visits["forecast_heading"]) == ("on_track", "on_track")
    assert visits["differ_text"] == ""
    assert "They differ" not in shop.browser("viewer@example.com").get("/kpis/visits").text


def test_the_forecasts_heading_is_the_outlooks(shop: Shop) -> None:
    """The page reads the outlook's `forecast_heading`: the forecast's end held against the
    target as the verdict holds the end at this pace against it (`track.status`)."""
    from tolok.answers.outlook import outlook
    from tolok.answers.verdicts import kpi_states
    from tolok.spec.loader import load_project

    loaded = load_project(shop.root)
    assert loaded.project is not None
    states = kpi_states(loaded, TODAY)
    ahead = outlook(loaded, "signups", states["signups"])
    assert ahead is not None
    assert ahead.forecast is not None
    assert ahead.forecast_heading is not None
    assert ahead.forecast_heading.value == open_of(shop, "signups")["forecast_heading"]
    assert ahead.pace.heading.value == open_of(shop, "signups")["heading"]

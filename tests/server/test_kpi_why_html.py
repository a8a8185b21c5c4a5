"""The KPI page's "Why it moved" panel on the explain shop (tests/fixtures/projects/
explain_shop) at 15 November 2026: the page's period and comparison, points for ratios with
the sentence on what drove them, good and bad parts in colour and in words, and the split by
the inputs of a formula, in English and Indonesian. Expected values worked out by hand."""

from __future__ import annotations

import math
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import FIXTURES
from tests.server.conftest import PASSWORD
from tolok.auth import accounts
from tolok.server.app import create_app


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    from tolok.engine.refresh import refresh_into_store
    from tolok.engine.warehouse import Warehouse
    from tolok.spec.loader import load_project
    from tolok.store.database import open_store, store_url

    monkeypatch.setenv("TOLOK_TODAY", "2026-11-15")
    root = tmp_path / "shop"
    shutil.copytree(FIXTURES / "explain_shop", root)
    loaded = load_project(root)
    assert loaded.project is not None, loaded.problems
    engine = open_store(store_url(loaded.project.store, root))
    refresh_into_store(loaded, Warehouse(loaded), engine)
    with Session(engine) as session, session.begin():
        accounts.add_user(session, "viewer@example.com", "Viewer", "viewer", "test", PASSWORD)
    engine.dispose()
    app = create_app(root, refresh_delay=0.05)
    with TestClient(app) as client:
        client.get("/signin")
        answer = client.post(
            "/signin",
            data={"email": "viewer@example.com", "password": PASSWORD,
                  "csrf": client.cookies.get("tolok_presession"), "next": "/board"},
            follow_redirects=False,
        )  # fmt: skip
        assert answer.status_code == 303, answer.text
        yield client
    if app.state.tolok.refresher is not None:
        app.state.tolok.refresher.wait()


def why(client: TestClient, name: str, **params: str) -> dict[str, object]:
    answer = client.get(f"/kpis/{name}.json", params=params)
    assert answer.status_code == 200, answer.text
    found = answer.json()["explanation"]
    assert found is not None, answer.json()["explain_note"]
    return dict(found)


def section(client: TestClient, name: str, **params: str) -> str:
    page: str = client.get(f"/kpis/{name}", params=params).text
    return page.split('<section class="panel" id="why"')[1].split("</section>")[0]


def test_the_last_closed_month_against_the_one_before_by_default(browser: TestClient) -> None:
    found = why(browser, "revenue")
    assert (found["before"], found["after"], found["compare"]) == ("Sep 2026", "Oct 2026",
                                                                    "previous")  # fmt: skip
    # Paid revenue by region: North 200 -> 200, South 50 -> 120.
    rows = {r["slice"]: r for r in found["rows"]}  # type: ignore[attr-defined]
    assert rows["South"]["total"] == 70.0
    assert rows["North"]["total"] == 0.0
    assert rows["South"]["total_text"] == "+$70.00"
    assert found["total_text"] == "+$70.00"
    assert (found["value_before"], found["value_after"]) == ("$250", "$320")


def test_the_pages_comparison_with_last_year_and_its_period(browser: TestClient) -> None:
    found = why(browser, "revenue", compare="last_year")
    assert (found["before"], found["after"], found["compare"]) == ("Oct 2025", "Oct 2026",
                                                                    "last_year")  # fmt: skip
    # North 120 -> 200, South 0 (its one order unpaid) -> 120.
    assert {r["slice"]: r["total"] for r in found["rows"]} == {"North": 80.0, "South": 120.0}  # type: ignore[attr-defined]
    assert found["total_text"] == "+$200"
    chosen = why(browser, "revenue", to="2026-09")
    assert (chosen["before"], chosen["after"]) == ("Aug 2026", "Sep 2026")
    # A range reaching into the open month explains the last closed one, never a part.
    assert why(browser, "revenue", to="2026-11")["after"] == "Oct 2026"
    html = section(browser, "revenue", compare="last_year")
    assert "Oct 2025 to Oct 2026, by region" in html


def test_a_ratio_in_points_with_the_sentence_on_what_drove_it(browser: TestClient) -> None:
    found = why(browser, "paid_share", by="region")
    assert found["ratio"] is True
    rows = {r["slice"]: r for r in found["rows"]}  # type: ignore[attr-defined]
    # North 2 of 2 paid -> 2 of 3; South 1 of 2 -> 2 of 2; 3 of 4 -> 4 of 5 in all.
    north_rate = (2 / 3 - 1) * (2 / 4 + 3 / 5) / 2
    assert rows["North"]["rate_text"] == f"{north_rate * 100:+.1f} pp"  # -18.3 pp
    assert rows["North"]["total_text"] == f"{(2 / 5 - 2 / 4) * 100:+.1f} pp"  # -10.0 pp
    assert rows["South"]["total_text"] == "+15.0 pp"
    assert found["total_text"] == "+5.0 pp"
    assert found["sentence"] == (
        "Mostly the rate: rate +4.2 pp, mix +0.8 pp, together +5.0 pp; "
        "the rate of South rose from 50.0% to 100.0%."
    )
    html = section(browser, "paid_share", by="region")
    assert '<p class="driver">Mostly the rate:' in html
    indonesian = section(browser, "paid_share", by="region", lang="id")
    assert "Terutama karena laju: laju +4,2 pp, komposisi +0,8 pp, bersama +5,0 pp;" in indonesian
    assert "laju South naik dari 50,0% menjadi 100,0%." in indonesian


def test_good_and_bad_parts_in_colour_and_in_words(browser: TestClient) -> None:
    # Unpaid orders should go down: South's -1 helped, North's +1 hurt.
    found = why(browser, "unpaid", by="region")
    rows = {r["slice"]: r for r in found["rows"]}  # type: ignore[attr-defined]
    assert (rows["South"]["effect"], rows["South"]["effect_text"]) == ("good", "helped")
    assert (rows["North"]["effect"], rows["North"]["effect_text"]) == ("bad", "hurt")
    html = section(browser, "unpaid", by="region")
    assert re.search(r'class="num change good"><strong>-1</strong> <span class="cue">helped', html)
    assert re.search(r'class="num change bad"><strong>\+1</strong> <span class="cue">hurt', html)
    indonesian = section(browser, "unpaid", by="region", lang="id")
    assert "membantu" in indonesian
    assert "merugikan" in indonesian


def test_no_shared_dimension_is_explained_by_the_inputs(browser: TestClient) -> None:
    # Conversion = paid orders (by region) / visitors (by device): 3 / 100 -> 4 / 120.
    found = why(browser, "conversion")
    assert found["by"] is None
    assert found["rows"] == []
    weight = (4 / 120 - 3 / 100) / math.log((4 / 120) / (3 / 100))
    parts = {r["slice"]: r for r in found["inputs"]}  # type: ignore[attr-defined]
    assert parts["paid_orders"]["total"] == pytest.approx(weight * math.log(4 / 3))
    assert parts["visitors"]["total"] == pytest.approx(-weight * math.log(120 / 100))
    assert parts["paid_orders"]["total_text"] == "+0.9 pp"
    assert parts["visitors"]["total_text"] == "-0.6 pp"
    assert found["inputs_total_text"] == "+0.3 pp"
    html = section(browser, "conversion")
    assert "By the inputs of its formula" in html
    assert "<code>paid_orders</code>" in html
    assert "Menurut masukan rumusnya" in section(browser, "conversion", lang="id")


def test_a_product_of_kpis_by_its_inputs_beside_nothing_by_dimension(
    browser: TestClient,
) -> None:
    found = why(browser, "sales", compare="last_year")
    # 50 visitors, 1 paid order of $120 -> 120 visitors, 4 paid orders, $320.
    weight = (320 - 120) / math.log(320 / 120)
    parts = {r["slice"]: r["total"] for r in found["inputs"]}  # type: ignore[attr-defined]
    assert parts == {
        "visitors": pytest.approx(weight * math.log(120 / 50)),
        "conversion": pytest.approx(weight * math.log((4 / 120) / (1 / 50))),
        "order_value": pytest.approx(weight * math.log((320 / 4) / 120)),
    }
    texts = [r["total_text"] for r in found["inputs"]]  # type: ignore[attr-defined]
    assert sum(float(t.replace("$", "")) for t in texts) == 200
    assert found["inputs_total_text"] == "+$200"


def test_kept_until_a_refresh_then_found_again_in_the_new_data(browser: TestClient) -> None:
    """The explanation asks the warehouse once; the pages after read what it found, until a
    refresh changes the store: then it is found again, in the data as it is now."""
    state = browser.app.state.tolok  # type: ignore[attr-defined]
    first = why(browser, "revenue")
    builds = state.board.builds
    assert why(browser, "revenue") == first
    assert state.board.builds == builds  # nothing built again: cards, cone and why all kept
    orders = Path(state.root) / "data" / "orders.csv"
    orders.write_text(orders.read_text() + "2026-10-31,South,30,paid\n")
    state.refresher.soon()
    state.refresher.wait()
    after = why(browser, "revenue")
    rows = {r["slice"]: r for r in after["rows"]}  # type: ignore[attr-defined]
    assert rows["South"]["total"] == 100.0  # 50 -> 150
    assert (after["value_before"], after["value_after"], after["total_text"]) == (
        "$250", "$350", "+$100",
    )  # fmt: skip


def test_a_series_no_refresh_keeps_is_computed_once_until_a_refresh(
    browser: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A series by week and region (the store keeps months) is computed from the data on
    the first view and kept, as the board's values are, until a refresh; only the most
    recently asked ones are kept."""
    from tolok.server.pages import kpi

    state = browser.app.state.tolok  # type: ignore[attr-defined]
    params = {"grain": "week", "by": "region"}
    first = browser.get("/kpis/revenue.json", params=params).json()
    builds = state.board.builds
    assert browser.get("/kpis/revenue.json", params=params).json() == first
    assert state.board.builds == builds
    orders = Path(state.root) / "data" / "orders.csv"
    orders.write_text(orders.read_text() + "2026-10-31,South,30,paid\n")
    state.refresher.soon()
    state.refresher.wait()
    after = browser.get("/kpis/revenue.json", params=params).json()

    def south(page: dict[str, list[dict[str, object]]]) -> float:
        """South's revenue in the week of Monday 26 October 2026."""
        [row] = [r for r in page["rows"] if r["start"] == "2026-10-26" and r["slice"] == "South"]
        return float(row["value"])  # type: ignore[arg-type]

    assert south(after) == south(first) + 30  # found again in the data as it is now
    monkeypatch.setattr(kpi, "VIEWS_KEPT", 2)
    for grain in ("day", "week", "quarter"):
        browser.get("/kpis/revenue.json", params={"grain": grain, "by": "region"})
    builds = state.board.builds
    browser.get("/kpis/revenue.json", params={"grain": "quarter", "by": "region"})
    assert state.board.builds == builds  # among the two kept
    browser.get("/kpis/revenue.json", params={"grain": "day", "by": "region"})
    assert state.board.builds == builds + 1  # the oldest was let go: computed again

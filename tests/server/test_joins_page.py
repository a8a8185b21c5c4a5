"""The KPI page with a lookup's dimension and a current-state dataset: "Break down by"
offers `customers.segment`, the values by segment are the orders' sums by hand, and a
snapshot KPI says its values are those of each refresh — in English and Indonesian."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.server.conftest import PASSWORD
from tolok.auth import accounts
from tolok.server.app import create_app

ORDERS = (
    "day,customer_id,amount\n2026-01-05,c1,10\n2026-01-09,c2,5\n2026-02-03,c1,7\n2026-02-04,c3,1\n"
)
CUSTOMERS = "customer_id,segment\nc1,retail\nc2,retail\nc3,wholesale\n"


def _client(root: Path, locale: str) -> Iterator[TestClient]:
    from tolok.engine.refresh import refresh_into_store
    from tolok.engine.warehouse import Warehouse
    from tolok.spec.loader import load_project
    from tolok.store.database import open_store, store_url

    root.mkdir(parents=True)
    (root / "orders.csv").write_text(ORDERS, encoding="utf-8")
    (root / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    (root / "tolok.yaml").write_text(
        f"""\
name: Joined
locale: {locale}
datasets:
  orders:
    source: file:orders.csv
    time: day
    refs: {{customer_id: customers}}
    measures:
      revenue: {{agg: sum, expr: amount}}
  customers:
    source: file:customers.csv
    key: [customer_id]
    dimensions: [segment]
    time: none
    measures:
      customers: {{agg: count}}
kpis:
  revenue: {{formula: revenue, breakdowns: [[customers.segment]]}}
  customers_now: {{formula: customers, breakdowns: [[customers.segment]]}}
""",
        encoding="utf-8",
    )
    loaded = load_project(root)
    assert loaded.ok, loaded.problems.to_json(root)
    assert loaded.project is not None
    engine = open_store(store_url(loaded.project.store, root))
    warehouse = Warehouse(loaded)
    refresh_into_store(loaded, warehouse, engine)
    warehouse.close()
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


@pytest.fixture(params=["en", "id"])
def locale(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(locale: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("TOLOK_TODAY", "2026-02-10")
    yield from _client(tmp_path / "shop", locale)


def test_break_down_by_a_lookups_dimension(client: TestClient) -> None:
    page = client.get("/kpis/revenue", params={"by": "customers.segment"})
    assert page.status_code == 200
    assert "<option selected>customers.segment</option>" in page.text
    rows = client.get("/kpis/revenue.json", params={"by": "customers.segment"}).json()["rows"]
    found = {(r["start"], r["slice"]): r["value"] for r in rows}
    # c1 and c2 are retail, c3 wholesale: January 10 + 5, February 7 and 1.
    assert found == {
        ("2026-01-01", "retail"): 15.0,
        ("2026-01-01", "wholesale"): 0.0,
        ("2026-02-01", "retail"): 7.0,
        ("2026-02-01", "wholesale"): 1.0,
    }


def test_a_snapshot_says_it_is_kept_from_refreshes(client: TestClient, locale: str) -> None:
    page = client.get("/kpis/customers_now")
    assert page.status_code == 200
    note = {
        "en": "these are its values as of each refresh, kept since",
        "id": "inilah nilainya pada setiap pembaruan, disimpan sejak",
    }[locale]
    assert note in page.text
    assert client.get("/kpis/customers_now.json").json()["watched_since"]

"""The API against its own OpenAPI document, by Schemathesis (issue 20, item 10): requests
made from the document, valid and not, sent with a real API token; every answer must be one
the document describes (status, content type, body, headers, `Allow` of a 405), valid
requests accepted and invalid ones refused. A small, fixed budget (derandomized, eight
examples an operation; TOLOK_SCHEMATHESIS_EXAMPLES=200 for a deeper look): the run is
repeatable and takes well under a minute."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from sqlalchemy.orm import Session

from tests.server.conftest import PASSWORD, PROJECT
from tolok.auth import accounts
from tolok.server.app import create_app

ORDERS = "ordered_at,region,amount\n2026-01-05,Bali,100\n2026-01-20,Jawa,150\n2026-02-03,Bali,200\n"


@pytest.fixture(scope="module")
def served_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    """The tests' project served in-process, and an editor's token for reading, writing and
    ingesting into `events`."""
    root = tmp_path_factory.mktemp("schemathesis")
    (root / "tolok.yaml").write_text(PROJECT, encoding="utf-8")
    (root / "orders.csv").write_text(ORDERS, encoding="utf-8")
    pinned = pytest.MonkeyPatch()
    pinned.setenv("TOLOK_TODAY", "2026-03-01")
    app = create_app(root, refresh_delay=0.05)
    with Session(app.state.tolok.engine) as session, session.begin():
        accounts.add_user(session, "editor@example.com", "", "editor", "test", PASSWORD)
    with TestClient(app) as client:
        client.get("/signin")
        client.post("/signin", data={"email": "editor@example.com", "password": PASSWORD,
                                     "csrf": client.cookies.get("tolok_presession")})  # fmt: skip
        csrf = client.get("/api/v1/me").json()["csrf"]
        made = client.post("/api/v1/tokens", headers={"X-CSRF-Token": csrf},
                           json={"name": "schemathesis",
                                 "scopes": ["read", "write", "ingest:events"]})  # fmt: skip
        assert made.status_code == 201, made.text
        yield app, made.json()["token"]
    if app.state.tolok.refresher is not None:
        app.state.tolok.refresher.wait()
    pinned.undo()


ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]  # Schemathesis' own
NAMES = {
    # Names the project has: a made-up one meets a 404 before the API's logic.
    "dictionaries": {"kpis": {"values": ["revenue", "event_amount", "spend"]},
                     "datasets": {"values": ["events", "ad_spend", "orders"]}},
    "operations": [
        {"include-path-regex": "^/api/v1/kpis/", "parameters":
            {"path.name": {"dictionary": "kpis", "probability": 0.9}}},
        {"include-path-regex": "^/api/v1/datasets/", "parameters":
            {"path.name": {"dictionary": "datasets", "probability": 0.9}}},
        # What no schema can say, refused with a message that says why: a series' filter
        # is an expression, its breakdown and comparison name the project's dimensions and
        # periods; a target or a value names a period of the KPI's (or measure's) grain and
        # the project's dimensions; only a manual dataset has values; rows hold their
        # dataset's columns; an alert rule names the project's KPIs, goals and channels, and
        # its conditions depend on each other; a definition holds with the whole project.
        *({"include-name": name,
           "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, status]}}}
          for name, status in [("GET /api/v1/kpis/{name}/series", 400),
                               ("PUT /api/v1/kpis/{name}/targets", 400),
                               ("GET /api/v1/datasets/{name}/values", 400),
                               ("GET /api/v1/datasets/{name}/values/history", 400),
                               ("POST /api/v1/datasets/{name}/values", 400),
                               ("POST /api/v1/datasets/{name}/rows", 422),
                               ("POST /api/v1/alert-rules", 422),
                               # a definition is checked with the whole project: its
                               # formula's names, its references, what uses it
                               ("POST /api/v1/kpis", 422),
                               ("PUT /api/v1/kpis/{name}/definition", 422),
                               ("POST /api/v1/datasets", 422),
                               ("PUT /api/v1/datasets/{name}", 422),
                               ("DELETE /api/v1/datasets/{name}", 422),
                               ("POST /api/v1/goals", 422),
                               ("PUT /api/v1/goals/{name}", 422),
                               ("DELETE /api/v1/goals/{name}", 422),
                               # the builder: an unsaved KPI is computed or planned only
                               # when it holds with the project and the catalog
                               ("POST /api/v1/builder/preview", 422),
                               ("POST /api/v1/builder/suggest-target", 422),
                               ("POST /api/v1/catalog/{template}/plan", 422),
                               ("POST /api/v1/catalog/{template}/add", 422),
                               # tolok.yaml's alert rules and schedules: the same
                               ("POST /api/v1/definitions/alerts", 422),
                               ("PUT /api/v1/definitions/alerts/{name}", 422),
                               ("POST /api/v1/definitions/schedules", 422),
                               ("PUT /api/v1/definitions/schedules/{name}", 422)]),
        # "Add data": any bytes are a schema-valid file, but only a CSV or a workbook is
        # read (415 for another kind, 422 for one that cannot be read as its kind)
        {"include-name": "POST /api/v1/uploads",
         "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, 415, 422]}}},
        # A CSV or NDJSON body is text: whatever is made "invalid" for it is still text.
        {"include-name": "POST /api/v1/datasets/{name}/rows",
         "checks": {"negative_data_rejection": {"enabled": False}}},
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def api_schema(served_api: tuple[Any, str]) -> Any:
    from schemathesis.config import SchemathesisConfig

    app, token = served_api
    return schemathesis.openapi.from_asgi(
        "/openapi.json", app, config=SchemathesisConfig.from_dict(NAMES),
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip


@pytest.fixture(autouse=True)
def _node_id(request: pytest.FixtureRequest) -> None:
    """Schemathesis (4.32) names each operation's subtest from `node._nodeid`, which
    pytest 9.2 no longer sets."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=int(os.environ.get("TOLOK_SCHEMATHESIS_EXAMPLES", "8")),
          derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))  # fmt: skip
def test_the_api_keeps_to_its_document(case: Any, served_api: tuple[Any, str]) -> None:
    _, token = served_api
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"})

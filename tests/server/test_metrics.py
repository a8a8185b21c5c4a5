"""`GET /metrics` (issue 24, item 3), read back with Prometheus' own OpenMetrics parser.

The served shop (tests/server/conftest.py) on 2026-03-01: revenue 250 in January and 200
in February against a target of 300, February the last closed month; March under way.
Values and targets are those figures; statuses and headings are held against the KPI cards
of `/api/v1/kpis`, which every other surface agrees with (tests/test_verdicts_agree.py)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.openmetrics.parser import text_string_to_metric_families

import tolok
from tests.server.conftest import Served
from tolok.server.metrics import CODES, SCRAPERS


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample by name and labels, after the parser accepted the whole exposition."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def of(found: dict[Any, float], name: str, **labels: str) -> float:
    matches = [
        v for (n, ls), v in found.items() if n == name and labels.items() <= dict(ls).items()
    ]
    assert len(matches) == 1, (name, labels, matches)
    return matches[0]


def test_a_read_token_gets_each_kpis_verdict_and_toloks_health(served: Served) -> None:
    tolok.open(served.root).refresh()
    program = served.token("viewer@example.com", ["read"])
    answer = program.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/openmetrics-text")
    assert answer.text.endswith("# EOF\n")
    found = samples(answer.text)
    revenue = {"kpi": "revenue", "goal": "grow", "owner": "sales-team"}
    assert of(found, "tolok_kpi_value", **revenue) == 200
    assert of(found, "tolok_kpi_target", **revenue) == 300
    assert of(found, "tolok_kpi_attainment_ratio", **revenue) == pytest.approx(200 / 300)
    cards = {c["name"]: c for c in program.get("/api/v1/kpis").json()["items"]}
    status = cards["revenue"]["status"]
    assert of(found, "tolok_kpi_status_code", **revenue) == CODES[status]
    assert of(found, "tolok_kpi_status", **revenue, status=status) == 1
    under_way = cards["revenue"]["open"]
    if under_way is None:  # the 1st: nothing stored for March, no sample made up
        assert not [k for k in found if k[0] == "tolok_kpi_heading"], under_way
    else:
        heading = under_way["heading"] or "no_data"
        assert of(found, "tolok_kpi_heading", **revenue, heading=heading) == 1
        assert of(found, "tolok_kpi_open_elapsed_ratio", **revenue) == under_way["elapsed"]
    # February 1st, 00:00 UTC
    assert of(found, "tolok_kpi_period_start_timestamp_seconds", kpi="revenue") == 1769904000
    for name, card in cards.items():  # every KPI, with or without values and labels
        assert of(found, "tolok_kpi_status_code", kpi=name) == CODES[card["status"] or "no_data"]
    assert of(found, "tolok_last_refresh_timestamp_seconds") > 1.7e9
    assert of(found, "tolok_last_refresh_duration_seconds") >= 0
    assert of(found, "tolok_refreshes_failed_total") == 0
    assert of(found, "tolok_deliveries_failed_total") == 0


def test_without_a_token_or_an_allowed_address_it_is_refused(served: Served) -> None:
    anonymous = served.client.get("/metrics")
    assert anonymous.status_code == 401
    assert SCRAPERS in anonymous.json()["error"]["message"]
    wrong = TestClient(served.client.app, headers={"Authorization": "Bearer nope"})
    assert wrong.get("/metrics").status_code == 401


def test_a_listed_scraper_reads_without_a_token(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SCRAPERS, "10.0.0.5, 192.168.7.0/24")
    listed = TestClient(served.client.app, client=("192.168.7.20", 40000))
    assert listed.get("/metrics").status_code == 200
    other = TestClient(served.client.app, client=("192.168.8.20", 40000))
    assert other.get("/metrics").status_code == 401


def test_names_are_escaped_as_the_format_says(served: Served) -> None:
    """A title or owner with quotes and backslashes stays one label value."""
    yaml = served.root / "tolok.yaml"
    yaml.write_text(
        yaml.read_text(encoding="utf-8").replace(
            "owner: sales-team", 'owner: "sales \\"north\\" \\\\ team"'
        ),
        encoding="utf-8",
    )
    tolok.open(served.root).refresh()
    program = served.token("viewer@example.com", ["read"])
    found = samples(program.get("/metrics").text)
    assert of(found, "tolok_kpi_target", kpi="revenue", owner='sales "north" \\ team') == 300

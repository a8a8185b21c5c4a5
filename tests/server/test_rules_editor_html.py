"""The pages of tolok.yaml's alert rules and schedules (issue 25, item 3): each definition as
a form filled with what the YAML holds, a new one's form, the choices in words, for editors
to save through the definitions API and for everyone else to read; and the same as JSON."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.server.conftest import PROJECT, Served

SHARING = """\
channels:
  chat: {webhook: 'https://hooks.example.com/T0'}
alerts:
  slips: {when: status, kpis: [revenue], notify: [chat], statuses: [off_track]}
  drop: {when: change, kpis: [revenue], change: 0.25, direction: any, notify: [chat]}
schedules:
  weekly: {do: digest, every: week, on: friday, at: "08:30", to: [chat], goal: grow}
  nightly: {do: refresh, every: day, at: "02:00"}
"""


@pytest.fixture
def sharing(served: Served) -> Served:
    (served.root / "tolok.yaml").write_text(PROJECT + SHARING, encoding="utf-8")
    return served


def builder_data(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="builder-data">(.*?)</script>',
                      html, re.S)  # fmt: skip
    assert found is not None, html
    got: dict[str, Any] = json.loads(found.group(1))
    return got


def form_of(html: str, name: str) -> str:
    start = html.index(f'data-entry="{name}"')
    return html[start : html.index("</form>", start)]


def squeeze(html: str) -> str:
    return re.sub(r"\s+", " ", html)


def test_an_editor_sees_each_alert_rule_as_a_form(sharing: Served) -> None:
    editor = sharing.browser("editor@example.com")
    answer = editor.get("/definitions/alerts", headers={"accept": "text/html"})
    assert answer.status_code == 200, answer.text
    html = answer.text
    assert '<script src="/static/build-rules.js' in html
    slips = squeeze(form_of(html, "slips"))
    assert 'data-api="/api/v1/definitions/alerts"' in squeeze(html)
    assert '<option value="status" selected>the status changes</option>' in slips
    assert '<option value="revenue" selected>Revenue</option>' in slips
    assert '<option value="off_track" selected>off track</option>' in slips
    assert '<option value="at_risk" >at risk</option>' in slips
    assert 'name="notify" value="chat" data-kind="list"' in slips
    assert 'data-show="when:threshold"' in slips
    drop = squeeze(form_of(html, "drop"))
    assert 'name="change" value="0.25" data-kind="number"' in drop
    assert '<option value="any" selected>either way</option>' in drop
    assert "Save the alert rule" in drop
    assert "Delete the alert rule" in drop
    assert 'data-entry=""' in html  # a new rule's form
    assert '<option value="chat"></option><option value="owner"></option>' in html
    data = builder_data(html)
    assert data["definitions"]["drop"] == {"when": "change", "kpis": ["revenue"], "change": 0.25,
                                           "direction": "any", "notify": ["chat"]}  # fmt: skip
    assert set(data["fingerprints"]) == {"tolok.yaml"}
    page = editor.get("/definitions/alerts.json").json()
    assert [f["name"] for f in page["forms"]] == ["slips", "drop"]
    assert page["can_save"] is True
    assert page["blank"]["fields"] == {"when": "status", "notify": ["chat"]}  # no e-mail server


def test_an_editor_sees_each_schedule_as_a_form(sharing: Served) -> None:
    editor = sharing.browser("editor@example.com")
    html = editor.get("/definitions/schedules", headers={"accept": "text/html"}).text
    weekly = squeeze(form_of(html, "weekly"))
    assert '<option value="digest" selected>send a digest</option>' in weekly
    assert '<option value="week" selected>every week</option>' in weekly
    assert '<option value="friday" selected>Friday</option>' in weekly
    assert 'name="at" value="08:30"' in weekly
    assert '<option value="grow" selected>Grow</option>' in weekly
    assert 'data-show="do:report"' in weekly
    nightly = squeeze(form_of(html, "nightly"))
    assert '<option value="refresh" selected>refresh the data</option>' in nightly
    assert "Save the schedule" in nightly
    assert 'href="/definitions/alerts"' in html
    page = editor.get("/definitions/schedules.json").json()
    assert page["forms"][0]["fields"]["on"] == "friday"
    lines = (PROJECT + SHARING).splitlines()
    weekly_line = next(i for i, line in enumerate(lines, 1) if line.startswith("  weekly:"))
    assert page["forms"][0]["line"] == weekly_line


def test_a_viewer_reads_the_rules_without_saving(sharing: Served) -> None:
    viewer = sharing.browser("viewer@example.com")
    html = viewer.get("/definitions/alerts", headers={"accept": "text/html"}).text
    assert 'id="not-allowed"' in html
    assert "Editors and admins may change alert rules and schedules" in html
    assert '<fieldset class="fields" disabled>' in form_of(html, "slips")
    assert "Save the alert rule" not in html
    assert 'data-entry=""' not in html
    assert viewer.get("/definitions/schedules.json").json()["can_save"] is False


def test_read_only_definitions_say_why(sharing: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOLOK_READONLY_DEFINITIONS", "1")
    editor = sharing.browser("editor@example.com")
    html = editor.get("/definitions/schedules", headers={"accept": "text/html"}).text
    assert 'id="read-only"' in html
    assert "read-only on this server" in html
    assert "Save the schedule" not in html
    said = editor.get("/definitions/schedules", params={"lang": "id"}).text
    assert "hanya-baca di server ini" in said


def test_the_pages_speak_indonesian(sharing: Served) -> None:
    editor = sharing.browser("editor@example.com")
    html = editor.get("/definitions/alerts", params={"lang": "id"}).text
    assert "Simpan aturan peringatan" in html
    assert "Aturan peringatan baru" in html
    drop = squeeze(form_of(html, "drop"))
    assert 'name="change" value="0,25" data-kind="number"' in drop  # the reader's decimals
    assert "ke arah mana pun</option>" in drop
    schedules = editor.get("/definitions/schedules", params={"lang": "id"}).text
    assert '<option value="friday" selected>Jumat</option>' in squeeze(form_of(schedules, "weekly"))
    assert "Simpan jadwal" in schedules


def test_a_project_without_rules_offers_to_add_the_first(served: Served) -> None:
    editor = served.browser("editor@example.com")
    html = editor.get("/definitions/alerts", headers={"accept": "text/html"}).text
    assert "No alert rules in tolok.yaml yet." in html
    assert "Add the alert rule" in html
    assert editor.get("/definitions/schedules.json").json()["forms"] == []

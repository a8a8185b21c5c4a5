"""One judgment, every surface (DESIGN.md): the four `tolok init` templates at a pinned clock
(`TOLOK_TODAY`), on the 1st, the 5th and the 15th of a month that starts a quarter, the last
day of a month and the last day of a quarter. For every active KPI, the period each surface
calls its latest judged one and the period under way carry the same verdict — period,
status, heading, state (open, not final, partial) and anomaly — in `tolok show --format
json`, the series API, `/api/v1/kpis`, `/board.json`, `/review.json`, `tolok status`, the
board `tolok refresh` prints and the alert check; and no surface raises a false alarm (an
off-track or at-risk status, or an anomaly, on a period that is open or not final, other
than an open period's own heading).

Which periods are open or not final is worked out here from the calendar and the YAML
(a conversion's `within`, a KPI's `final_after`), not from tolok's own judgment.

Each (template, day) project is made and read once (a module-scoped fixture: `tolok init`
and `tolok refresh` cost about 2 s each); the tests then compare what was read.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from ruamel.yaml import YAML
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

import tolok
from tests.server.conftest import PASSWORD, Served
from tolok.auth import accounts
from tolok.cli import app as cli
from tolok.notify.alerts import check_alerts
from tolok.notify.channels import Sender
from tolok.notify.messages import Message, Recipient
from tolok.server.app import create_app
from tolok.spec.loader import load_project
from tolok.store.database import open_store, store_url
from tolok.store.sharing import AlertEvent

TEMPLATES = ("ecommerce", "saas", "support", "marketing")
DAYS = (
    dt.date(2026, 10, 1),  # the 1st of a month and of a quarter: the new month has no data
    dt.date(2026, 10, 5),
    dt.date(2026, 10, 15),
    dt.date(2026, 11, 30),  # the last day of a month
    dt.date(2026, 12, 31),  # the last day of a quarter (and of a year)
)
FLAGS = {"at_risk", "off_track"}
VERDICT = (
    *("period", "start", "value", "target", "status", "state", "open", "provisional"),
    *("partial", "anomaly", "elapsed", "heading", "target_so_far", "projected", "final_on"),
)
ALERTS = """
channels:
  nowhere: {webhook: "http://127.0.0.1:9/alerts"}  # never called: see Kept
alerts:
  slipping:
    when: status
    notify: [nowhere]
  unusual:
    when: anomaly
    notify: [nowhere]
"""

runner = CliRunner()


class Kept(Sender):
    """Sends nothing: the check's alerts are read from the store."""

    def send(self, key: str, recipient: Recipient, message: Message) -> str:
        return "sent"


@dataclass
class Readings:
    """What every surface said of one project on one day."""

    template: str
    today: dt.date
    grains: dict[str, str]  # KPI → grain
    settles: dict[str, int]  # KPI → days after a period ends that it may still change
    titles: dict[str, str]
    shown: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # tolok show
    series: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # the series API
    cards: dict[str, dict[str, Any]] = field(default_factory=dict)  # /api/v1/kpis
    board: dict[str, dict[str, Any]] = field(default_factory=dict)  # /board.json
    review: dict[str, Any] = field(default_factory=dict)
    status: dict[str, dict[str, str]] = field(default_factory=dict)  # tolok status, by title
    refreshed: dict[str, dict[str, str]] = field(default_factory=dict)  # refresh's board
    alerts: set[tuple[str, str, dt.date | None]] = field(default_factory=set)
    frames: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # tolok.open().series
    standing: dict[str, dict[str, Any]] = field(default_factory=dict)  # tolok.open().status()

    def where(self, name: str) -> str:
        return f"{self.template} on {self.today}, {name}"


def _cli(*args: str) -> str:
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, (args, result.output)
    return result.stdout


def _table(text: str) -> list[dict[str, str]]:
    """A tab-separated table (what the CLI prints when it is not a terminal) as rows."""
    lines = [line.split("\t") for line in text.splitlines() if "\t" in line]
    header, rows = lines[0], lines[1:]
    return [dict(zip(header, row, strict=True)) for row in rows]


def _settling(root: Path) -> dict[str, int]:
    """Days after a period's end that each KPI's value may still change, read straight from
    the YAML: the longest conversion window (`within`) of a measure its formula names, or
    its `final_after`."""
    yaml = YAML(typ="safe")
    data = yaml.load((root / "tolok.yaml").read_text(encoding="utf-8"))
    kpis: dict[str, Any] = dict(data.get("kpis") or {})
    for path in sorted((root / "kpis").glob("*.yaml")):
        kpis.update(yaml.load(path.read_text(encoding="utf-8")) or {})
    windows = {
        measure: _days(spec["within"])
        for dataset in data["datasets"].values()
        for measure, spec in (dataset.get("measures") or {}).items()
        if isinstance(spec, dict) and spec.get("agg") == "conversion" and spec.get("within")
    }
    out = {}
    for name, kpi in kpis.items():
        names = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", kpi["formula"]))
        days = [windows[m] for m in names if m in windows]
        if kpi.get("final_after"):
            days.append(_days(kpi["final_after"]))
        out[name] = max(days, default=0)
    return out


def _days(text: object) -> int:
    number, unit = str(text).split()
    return int(number) * {"day": 1, "days": 1, "week": 7, "weeks": 7}[unit]


def period_end(start: dt.date, grain: str) -> dt.date:
    """The first day after a period (the templates' KPIs are monthly or weekly, ISO weeks)."""
    if grain == "week":
        return start + dt.timedelta(days=7)
    assert grain == "month", grain
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def truth(readings: Readings, name: str, start: dt.date) -> str:
    """Whether a period is open (today falls in it), not final (within its window after
    the end) or closed — worked out without tolok."""
    end = period_end(start, readings.grains[name])
    if readings.today < end:
        return "open"
    if readings.today < end + dt.timedelta(days=readings.settles[name]):
        return "not_final"
    return "closed"


def read(template: str, today: dt.date, folder: Path) -> Readings:
    """Make the project as a user would on `today`, refresh it, and read every surface."""
    root = folder / template
    _cli("init", str(root), "--template", template)
    with (root / "tolok.yaml").open("a", encoding="utf-8") as handle:
        handle.write(ALERTS)
    refreshed = _table(_cli("refresh", str(root), "--no-alerts"))
    loaded = load_project(root)
    project = loaded.project
    assert project is not None, loaded.problems
    active = [n for n, k in project.kpis.items() if k.status.value == "active"]
    readings = Readings(
        template, today, {n: project.kpis[n].grain.value for n in active}, _settling(root),
        {n: project.kpis[n].title or n for n in active},
    )  # fmt: skip
    readings.refreshed = {row["kpi"]: row for row in refreshed}
    readings.status = {row["kpi"]: row for row in _table(_cli("status", str(root)))}
    for name in active:
        shown = json.loads(_cli("show", name, "-p", str(root), "--format", "json"))
        readings.shown[name] = shown["points"]
    _serve(root, readings)
    opened = tolok.open(root)
    for name in active:
        readings.frames[name] = opened.series(name).to_dict("records")
    readings.standing = {row["kpi"]: row for row in opened.status().to_dict("records")}
    engine = open_store(store_url(project.store, root))
    check_alerts(loaded, engine, Kept(engine, None, attempts=1, backoff=0.0))  # on the clock
    with Session(engine) as session:
        events = session.scalars(select(AlertEvent))
        readings.alerts = {(e.rule, e.kpi, e.period) for e in events}
    engine.dispose()
    return readings


def _serve(root: Path, readings: Readings) -> None:
    app = create_app(root, schedules=False)
    with Session(app.state.tolok.engine) as session, session.begin():
        accounts.add_user(session, "viewer@example.com", "", "viewer", "test", PASSWORD)
    with TestClient(app) as client:
        browser = Served(root, client).browser("viewer@example.com")
        for name in readings.shown:
            answer = browser.get(f"/api/v1/kpis/{name}/series")
            assert answer.status_code == 200, answer.text
            readings.series[name] = answer.json()["points"]
        cards = browser.get("/api/v1/kpis", params={"limit": 500}).json()["items"]
        readings.cards = {c["name"]: c for c in cards}
        board = browser.get("/board.json").json()
        readings.board = {c["name"]: c for g in board["groups"] for c in g["cards"]}
        readings.review = browser.get("/review.json").json()
    if app.state.tolok.refresher is not None:
        app.state.tolok.refresher.wait()


@pytest.fixture(
    scope="module",
    params=[(t, d) for t in TEMPLATES for d in DAYS],
    ids=[f"{t}-{d}" for t in TEMPLATES for d in DAYS],
)
def readings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Readings]:
    template, today = request.param
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TOLOK_TODAY", today.isoformat())
        patch.delenv("TOLOK_NOW", raising=False)
        patch.setenv("TOLOK_SCHEDULES", "off")
        yield read(template, today, tmp_path_factory.mktemp(f"{template}-{today}"))


# --- what the series say ---------------------------------------------------------------------


def latest(points: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The last judged period: closed, final and whole."""
    return next((p for p in reversed(points) if p["state"] == "closed"), None)


def under_way(readings: Readings, name: str) -> dict[str, Any] | None:
    """The period today falls in (a period that has not begun is open too: rows dated
    after today, such as tickets resolved tomorrow in the support template, give one)."""
    found = [
        p for p in readings.shown[name]
        if p["state"] == "open" and dt.date.fromisoformat(p["start"]) <= readings.today
    ]  # fmt: skip
    assert len(found) <= 1, found
    return found[0] if found else None


def heading(value: str | None) -> str:
    """A heading as every surface writes it: none is "no data" (the JSON's null, the refresh
    board's empty cell, "judged once over" in the terminal for a KPI whose value so far says
    nothing yet)."""
    return (value or "no_data").replace("judged once over", "no data").replace(" ", "_")


def status_of(last: dict[str, Any] | None) -> str:
    """The status a card or a row shows for its last judged period."""
    return (last["status"] if last else None) or "no_data"


def verdict(point: dict[str, Any]) -> dict[str, Any]:
    return {k: point.get(k) for k in VERDICT}


# --- the tests -------------------------------------------------------------------------------


def test_show_json_and_the_series_api_judge_every_period_alike(readings: Readings) -> None:
    for name, points in readings.shown.items():
        assert [verdict(p) for p in readings.series[name]] == [verdict(p) for p in points], (
            readings.where(name)
        )


def test_the_python_api_judges_every_period_as_show_does(readings: Readings) -> None:
    for name, points in readings.shown.items():
        rows = readings.frames[name]
        where = readings.where(name)
        assert [r["period"].date().isoformat() for r in rows] == [p["start"] for p in points]
        for row, point in zip(rows, points, strict=True):
            assert row["status"] == point["status"] or (
                point["status"] is None and row["status"] != row["status"]  # NaN: no status
            ), where
            assert row["state"] == point["state"], where
            for key in ("value", "target", "projected"):
                given = point.get(key)
                assert row[key] == given or (given is None and row[key] != row[key]), (where, key)
        standing = readings.standing[name]
        last, now = latest(points), under_way(readings, name)
        found = standing["period"]
        assert (found.date().isoformat() if found == found else None) == (
            last["start"] if last else None
        ), where
        assert standing["status"] == status_of(last), where
        if now is not None:
            assert standing["open_period"].date().isoformat() == now["start"], where
            shown = standing["heading"] if standing["heading"] == standing["heading"] else None
            assert heading(shown) == heading(now["heading"]), where


def test_the_open_and_not_final_periods_are_those_of_the_calendar(readings: Readings) -> None:
    for name, points in readings.shown.items():
        judged_yet = False
        for point in points:
            start = dt.date.fromisoformat(point["start"])
            expected = truth(readings, name, start)
            where = f"{readings.where(name)} {point['period']}"
            if point["state"] == "partial":  # data that begins in the middle of a period
                assert expected == "closed", where
                assert not judged_yet, where
                continue
            assert point["state"] == expected, where
            assert point["open"] is (expected == "open"), where
            assert point["provisional"] is (expected == "not_final"), where
            judged_yet = judged_yet or expected == "closed"


def test_the_board_shows_the_verdicts_of_the_series(readings: Readings) -> None:
    for name, points in readings.shown.items():
        card, last, now = readings.board[name], latest(points), under_way(readings, name)
        where = readings.where(name)
        assert card["period_start"] == (last["start"] if last else None), where
        if last is not None:
            assert card["value"] == pytest.approx(last["value"], abs=0.005), where
        assert card["status"] == status_of(last), where
        score = last["anomaly"]["score"] if last and last["anomaly"] else None
        assert card["anomaly"] == score, where
        if now is None:
            assert card["open"] is None, where
            continue
        if card["open"] is None:  # nothing so far and no forecast
            assert now["value"] is None, where
            continue
        assert card["open"]["heading"] == heading(now["heading"]), where
        assert card["open"]["elapsed"] == pytest.approx(now["elapsed"], abs=1e-4), where


def test_the_api_cards_show_the_verdicts_of_the_series(readings: Readings) -> None:
    for name, points in readings.shown.items():
        card, last, now = readings.cards[name], latest(points), under_way(readings, name)
        where = readings.where(name)
        assert card["period"] == (last["period"] if last else None), where
        assert card["status"] == status_of(last), where
        assert card["anomaly"] == (last["anomaly"] if last else None), where
        assert card["value"] == (last["value"] if last else None), where
        assert card["target"] == (last["target"] if last else None), where
        if now is None:
            assert card["open"] is None, where
            continue
        assert card["open"]["start"] == now["start"], where
        assert card["open"]["heading"] == now["heading"], where
        assert card["open"]["elapsed"] == now["elapsed"], where
        for key in ("value", "target", "target_so_far", "projected"):
            assert card["open"][key] == now[key], (where, key)


def test_status_and_the_refresh_board_show_the_verdicts_of_the_series(readings: Readings) -> None:
    for name, points in readings.shown.items():
        last, now = latest(points), under_way(readings, name)
        for surface, row in (
            ("status", readings.status[readings.titles[name]]),
            ("refresh", readings.refreshed[readings.titles[name]]),
        ):
            where = f"{readings.where(name)} ({surface})"
            assert row["period"] == (last["period"] if last else ""), where
            assert row["status"] == status_of(last).replace("_", " "), where
            if now is None:
                assert row["open period"] == "", where
                continue
            assert row["open period"] == f"{now['period']} ({now['elapsed']:.0%})", where
            assert heading(row["heading"]) == heading(now["heading"]), where


def test_the_review_lists_follow_from_the_verdicts(readings: Readings) -> None:
    """Off track, then at risk, in the last judged period; fine there but heading off track
    or at risk in the open one; on track and at or past its target."""
    review, where = readings.review, f"{readings.template} on {readings.today}"
    attention = [(i["card"]["name"], i["card"]["period_start"]) for i in review["attention"]]
    expected, heading_off = {}, set()
    for name, points in readings.shown.items():
        last, now = latest(points), under_way(readings, name)
        if last is not None and last["status"] in FLAGS:
            expected[name] = last["start"]
        elif now is not None and now["heading"] in FLAGS:
            heading_off.add(name)
    assert dict(attention) == expected, where
    statuses = [readings.board[name]["status"] for name, _ in attention]
    assert statuses == sorted(statuses, key=["off_track", "at_risk"].index), where
    assert {c["name"] for c in review["heading_off"]} == heading_off, where
    reached = {
        name
        for name, card in readings.cards.items()
        if card["status"] == "on_track" and (card["attainment"] or 0) >= 1
    }
    assert {c["name"] for c in review["reached"]} == reached, where


def test_alerts_fire_for_the_last_judged_period_and_nothing_else(readings: Readings) -> None:
    expected = set()
    for name, points in readings.shown.items():
        last = latest(points)
        if last is None:
            continue
        start = dt.date.fromisoformat(last["start"])
        if last["status"] in FLAGS:
            expected.add(("slipping", name, start))
        if last["anomaly"] is not None:
            expected.add(("unusual", name, start))
    assert readings.alerts == expected, f"{readings.template} on {readings.today}"


def test_no_false_alarms(readings: Readings) -> None:
    found = false_alarms(readings)
    assert found == [], "\n".join(found)


def false_alarms(readings: Readings) -> list[str]:
    """Every off-track or at-risk status and every anomaly that a surface shows on a period
    that is open or not final (by the calendar and the YAML), except an open period's own
    heading; and every open period whose status and heading disagree."""
    found = []

    def flag(surface: str, name: str, start: dt.date, status: Any, unusual: Any,
             heads: Any = None) -> None:  # fmt: skip
        state = truth(readings, name, start)
        if state == "closed":
            return
        where = f"{surface}: {readings.where(name)} {start} ({state})"
        if unusual:
            found.append(f"{where} flagged unusual")
        if status in FLAGS and (state == "not_final" or heading(heads) != status):
            found.append(f"{where} {status} while heading {heading(heads)}")

    for surface, series in (("show", readings.shown), ("series API", readings.series)):
        for name, points in series.items():
            for p in points:
                start = dt.date.fromisoformat(p["start"])
                flag(surface, name, start, p["status"], p["anomaly"], p.get("heading"))
    for name, card in readings.board.items():
        if card["period_start"] is not None:
            start = dt.date.fromisoformat(card["period_start"])
            flag("board", name, start, card["status"], card["anomaly"])
    for name, card in readings.cards.items():
        if card["period"] is not None:
            start = _starts(readings, name)[card["period"]]
            flag("API", name, start, card["status"], card["anomaly"])
    for surface, rows in (("status", readings.status), ("refresh", readings.refreshed)):
        for name, title in readings.titles.items():
            row = rows[title]
            if row["period"]:
                start = _starts(readings, name)[row["period"]]
                flag(surface, name, start, row["status"].replace(" ", "_"), None)
    for rule, name, period in readings.alerts:
        state = truth(readings, name, period) if period is not None else "closed"
        if state != "closed":
            found.append(f"alert {rule}: {readings.where(name)} {period} ({state})")
    return found


def _starts(readings: Readings, name: str) -> dict[str, dt.date]:
    """A KPI's period labels (2026-10, 2026-W40) and the days they start."""
    return {p["period"]: dt.date.fromisoformat(p["start"]) for p in readings.shown[name]}


def test_the_api_says_what_needs_attention_as_the_board_does(readings: Readings) -> None:
    """`attention` from the series' verdicts (the judged period's status, else the heading
    of the period under way), the same on `/api/v1/kpis` and `/board.json`; ordered by the
    API's `attention_rank`, the KPIs come in the board's order."""
    for name, points in readings.shown.items():
        last, now = latest(points), under_way(readings, name)
        where = readings.where(name)
        judged = status_of(last)
        heading_now = now["heading"] if now else None
        expected = (
            judged if judged in FLAGS
            else f"heading_{heading_now}" if heading_now in FLAGS else None
        )  # fmt: skip
        assert readings.cards[name]["attention"] == expected, where
        assert readings.board[name]["attention"] == expected, where
    order = list(readings.board)  # the board's order: attention first
    names = list(readings.cards)  # the project's order
    ranked = sorted(names, key=lambda n: (readings.cards[n]["attention_rank"], names.index(n)))
    assert ranked == order, readings.where(order[0])

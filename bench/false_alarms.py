"""Benchmark: false alarms over the four `tolok init` templates at a pinned clock.

    python bench/false_alarms.py
    PYTHONPATH=/tmp/before python bench/false_alarms.py   # another tree's code (see below)

Each template is made (`tolok.catalog.init.create`, data up to the day before) and
refreshed on the 1st, the 5th and the 15th of a month that starts a quarter, the last day
of a month and the last day of a quarter. Then every surface is read in-process as a user
sees it: `tolok show KPI --format json`, the series API, `/api/v1/kpis`, `/board.json`,
`tolok status` and an alert check with a `when: status` and a `when: anomaly` rule.

A false alarm is an off-track or at-risk status, or an anomaly, that a surface shows on a
period that is open (today falls in it) or not final (a conversion window or `final_after`
has not run out since it ended) — except an open period's status when it is the period's
own heading (as the surface says it, else as the board says it). Which periods are open or
not final is worked out here from the calendar and the YAML, not from tolok's judgment.

The clock: code that has `tolok.clock` reads `TOLOK_TODAY`. Older code (before issue 18)
has none: there the day is pinned by patching, in this process, each place that asked the
machine for today on the way to these surfaces — the board's and the API's `today_of` /
`_today`, and `datetime.now` in `tolok.terminal_status` — and the alert check is given the
moment. (`tolok.engine.compute` also asks for today, only for a spine with no data at all,
which these projects never have.)
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import subprocess
import tempfile
import time
import types
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

TEMPLATES = ("ecommerce", "saas", "support", "marketing")
DAYS = (
    dt.date(2026, 10, 1),
    dt.date(2026, 10, 5),
    dt.date(2026, 10, 15),
    dt.date(2026, 11, 30),
    dt.date(2026, 12, 31),
)
FLAGS = {"at_risk", "off_track"}
SURFACES = ("show", "series API", "API cards", "board", "status", "alerts")
PASSWORD = "bench password 123"
ALERTS = """
channels:
  nowhere: {webhook: "http://127.0.0.1:9/alerts"}
alerts:
  slipping: {when: status, notify: [nowhere]}
  unusual: {when: anomaly, notify: [nowhere]}
"""


def has_clock() -> bool:
    """Whether the code read has `tolok.clock` (asked of its folder: an editable install
    would lend another tree's module to an import)."""
    import tolok

    return (Path(tolok.__file__).parent / "clock.py").exists()


def _frozen_dt(day: dt.date) -> types.ModuleType:
    """`datetime` as a module that says it is noon on `day`."""

    class Frozen(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
            return dt.datetime.combine(day, dt.time(12), tzinfo=tz)

    module = types.ModuleType("datetime")
    module.__dict__.update({k: v for k, v in vars(dt).items() if not k.startswith("__")})
    module.datetime = Frozen  # type: ignore[attr-defined]
    return module


@contextlib.contextmanager
def pinned(day: dt.date) -> Iterator[None]:
    """Today is `day` for every surface read here."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.dict(os.environ, {"TOLOK_TODAY": day.isoformat()}))
        if not has_clock():
            from tolok import terminal_status
            from tolok.server import api
            from tolok.server.pages import board

            stack.enter_context(mock.patch.object(board, "today_of", return_value=day))
            stack.enter_context(mock.patch.object(api, "_today", return_value=day))
            stack.enter_context(mock.patch.object(terminal_status, "dt", _frozen_dt(day)))
        yield


def _cli(*args: str) -> str:
    from typer.testing import CliRunner

    from tolok.cli import app

    result = CliRunner().invoke(app, list(args))
    if result.exit_code != 0:
        raise SystemExit(f"tolok {' '.join(args)} failed:\n{result.output}")
    return result.stdout


def _table(text: str) -> list[dict[str, str]]:
    lines = [line.split("\t") for line in text.splitlines() if "\t" in line]
    return [dict(zip(lines[0], row, strict=True)) for row in lines[1:]]


def _settling(root: Path) -> dict[str, int]:
    """Days after a period's end that each KPI may still change, from the YAML: the longest
    `within` of a conversion measure its formula names, or its `final_after`."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe")
    data = yaml.load((root / "tolok.yaml").read_text(encoding="utf-8"))
    kpis: dict[str, Any] = dict(data.get("kpis") or {})
    for path in sorted((root / "kpis").glob("*.yaml")):
        kpis.update(yaml.load(path.read_text(encoding="utf-8")) or {})
    windows = {
        name: _days(spec["within"])
        for dataset in data["datasets"].values()
        for name, spec in (dataset.get("measures") or {}).items()
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
    if grain == "week":
        return start + dt.timedelta(days=7)
    if grain != "month":
        raise SystemExit(f"a {grain} KPI: this script knows months and weeks")
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


class Project:
    """One template on one day: where its periods stand, and what each surface showed."""

    def __init__(self, template: str, day: dt.date, root: Path) -> None:
        self.template, self.day, self.root = template, day, root
        self.grains: dict[str, str] = {}
        self.settles: dict[str, int] = {}
        self.titles: dict[str, str] = {}
        self.shown: dict[str, list[dict[str, Any]]] = {}
        self.series: dict[str, list[dict[str, Any]]] = {}
        self.cards: dict[str, dict[str, Any]] = {}
        self.board: dict[str, dict[str, Any]] = {}
        self.status: dict[str, dict[str, str]] = {}
        self.alerts: set[tuple[str, str, dt.date | None]] = set()

    def state(self, name: str, start: dt.date) -> str:
        end = period_end(start, self.grains[name])
        if self.day < end:
            return "open"
        if self.day < end + dt.timedelta(days=self.settles[name]):
            return "not_final"
        return "closed"

    def start_of(self, name: str, label: str) -> dt.date:
        return next(dt.date.fromisoformat(p["start"]) for p in self.shown[name]
                    if p["period"] == label)  # fmt: skip


def make(template: str, day: dt.date, folder: Path) -> Project:
    from tolok.catalog.init import create
    from tolok.spec.loader import load_project

    root = folder / f"{template}-{day}"
    create(root, template, "en", today=day)
    with (root / "tolok.yaml").open("a", encoding="utf-8") as handle:
        handle.write(ALERTS)
    _cli("refresh", str(root), "--no-alerts")
    loaded = load_project(root)
    assert loaded.project is not None, loaded.problems
    project = Project(template, day, root)
    for name, kpi in loaded.project.kpis.items():
        if kpi.status.value == "active":
            project.grains[name] = kpi.grain.value
            project.titles[name] = kpi.title or name
    project.settles = _settling(root)
    return project


def read(project: Project) -> None:
    """Every surface, as a user reads it on the project's day."""
    from fastapi.testclient import TestClient
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from tolok.auth import accounts
    from tolok.notify.alerts import check_alerts
    from tolok.server.app import create_app
    from tolok.spec.loader import load_project
    from tolok.store.sharing import AlertEvent

    root = project.root
    project.status = {r["kpi"]: r for r in _table(_cli("status", str(root)))}
    for name in project.grains:
        shown = json.loads(_cli("show", name, "-p", str(root), "--format", "json"))
        project.shown[name] = shown["points"]
    app = create_app(root, schedules=False)
    engine = app.state.tolok.engine
    with Session(engine) as session, session.begin():
        accounts.add_user(session, "bench@example.com", "", "viewer", "bench", PASSWORD)
    with TestClient(app) as client:
        client.get("/signin")
        token = client.cookies.get("tolok_presession")
        signed = client.post(
            "/signin",
            data={"email": "bench@example.com", "password": PASSWORD, "csrf": token,
                  "next": "/board"},
            follow_redirects=False,
        )  # fmt: skip
        assert signed.status_code == 303, signed.text
        for name in project.grains:
            project.series[name] = client.get(f"/api/v1/kpis/{name}/series").json()["points"]
        items = client.get("/api/v1/kpis", params={"limit": 500}).json()["items"]
        project.cards = {c["name"]: c for c in items}
        board = client.get("/board.json").json()
        project.board = {c["name"]: c for g in board["groups"] for c in g["cards"]}
    if app.state.tolok.refresher is not None:
        app.state.tolok.refresher.wait()
    loaded = load_project(root)
    noon = dt.datetime.combine(project.day, dt.time(12))  # the templates' zone is UTC
    check_alerts(loaded, engine, _quiet_sender(engine), now=noon)
    with Session(engine) as session:
        project.alerts = {(e.rule, e.kpi, e.period) for e in session.scalars(select(AlertEvent))}
    engine.dispose()


def _quiet_sender(engine: Any) -> Any:
    from tolok.notify.channels import Sender

    class Kept(Sender):
        def send(self, key: str, recipient: Any, message: Any) -> str:
            return "sent"

    return Kept(engine, None, attempts=1, backoff=0.0)


def false_alarms(project: Project, told: list[str] | None = None) -> Counter[str]:
    """False alarms by surface (see the module's docstring); each one described in `told`."""
    found: Counter[str] = Counter()
    told = [] if told is None else told
    board_heading = {
        n: (c["open"] or {}).get("heading") for n, c in project.board.items() if c.get("open")
    }

    def flag(surface: str, name: str, start: dt.date, status: Any, unusual: Any,
             heading: Any = None) -> None:  # fmt: skip
        state = project.state(name, start)
        if state == "closed":
            return
        if state == "open" and start <= project.day:  # the board's open period
            heading = heading or board_heading.get(name)
        where = f"{project.template} {project.day} {surface}: {name} {start} ({state})"
        if unusual:
            found[surface] += 1
            told.append(f"{where} {unusual if surface == 'alerts' else f'unusual {unusual}'}")
        if status in FLAGS and (state == "not_final" or heading != status):
            found[surface] += 1
            told.append(f"{where} {status}, heading {heading}")

    for surface, series in (("show", project.shown), ("series API", project.series)):
        for name, points in series.items():
            for p in points:
                start = dt.date.fromisoformat(p["start"])
                flag(surface, name, start, p.get("status"), p.get("anomaly"), p.get("heading"))
    for name, card in project.cards.items():
        if card["period"] is not None:
            start = project.start_of(name, card["period"])
            flag("API cards", name, start, card["status"], card.get("anomaly"))
    for name, card in project.board.items():
        if card["period_start"] is not None:
            start = dt.date.fromisoformat(card["period_start"])
            flag("board", name, start, card["status"], card.get("anomaly"))
    for name, title in project.titles.items():
        row = project.status[title]
        if row["period"]:
            start = project.start_of(name, row["period"])
            flag("status", name, start, row["status"].replace(" ", "_"), None)
    for rule, name, period in project.alerts:
        if period is not None:
            flag("alerts", name, period, None, f"alert {rule}")
    return found


def unsettled(project: Project) -> tuple[int, int]:
    """Periods that are open (begun, today in them) and not final, of every KPI."""
    opened = settling = 0
    for name, points in project.shown.items():
        for p in points:
            start = dt.date.fromisoformat(p["start"])
            state = project.state(name, start)
            opened += state == "open" and start <= project.day
            settling += state == "not_final"
    return opened, settling


def heading_off(project: Project) -> int:
    """Open periods the board says are heading off track or at risk (not false alarms by
    the definition above, but an alarm all the same: for information)."""
    return sum((c.get("open") or {}).get("heading") in FLAGS for c in project.board.values())


def _tree() -> str:
    import tolok

    folder = Path(tolok.__file__).resolve().parent.parent
    try:
        found = subprocess.run(["git", "-C", str(folder), "rev-parse", "--short", "HEAD"],
                               capture_output=True, text=True, check=True)  # fmt: skip
        dirty = subprocess.run(["git", "-C", str(folder), "status", "--porcelain", "tolok"],
                               capture_output=True, text=True, check=True)  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return str(folder)
    return f"{folder} at {found.stdout.strip()}{' + uncommitted changes' if dirty.stdout else ''}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--templates", nargs="*", default=list(TEMPLATES))
    parser.add_argument("--list", action="store_true", help="Print each false alarm too.")
    args = parser.parse_args()
    os.environ["TOLOK_SCHEDULES"] = "off"
    print(f"false alarms, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; code: {_tree()}")
    clock = "TOLOK_TODAY" if has_clock() else "patched (no tolok.clock)"
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}; clock: {clock}")  # fmt: skip
    header = f"{'template':<10}{'day':<12}{'open':>5}{'not final':>10}{'heading off':>12}"
    print(header + "".join(f"{s:>11}" for s in SURFACES) + f"{'total':>7}")
    totals: Counter[str] = Counter()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tolok-false-alarms-") as folder:
        for template in args.templates:
            for day in DAYS:
                with pinned(day):
                    project = make(template, day, Path(folder))
                    read(project)
                told: list[str] = []
                found = false_alarms(project, told)
                opened, settling = unsettled(project)
                heads = heading_off(project)
                totals.update(found)
                totals.update({"open": opened, "not final": settling, "heading off": heads})
                print(f"{template:<10}{day.isoformat():<12}{opened:>5}{settling:>10}{heads:>12}"
                      + "".join(f"{found[s]:>11}" for s in SURFACES)
                      + f"{sum(found.values()):>7}", flush=True)  # fmt: skip
                for line in told if args.list else []:
                    print(f"    {line}")
    alarms = sum(totals[s] for s in SURFACES)
    print(f"{'total':<22}{totals['open']:>5}{totals['not final']:>10}{totals['heading off']:>12}"
          + "".join(f"{totals[s]:>11}" for s in SURFACES) + f"{alarms:>7}")  # fmt: skip
    print(f"{time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()

"""Checks of the sharing sections: every KPI, goal, channel and measure they name exists,
and e-mail channels have a server to send through."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from tolok.spec.loaded import LoadedProject
from tolok.spec.models import Project
from tolok.spec.problems import Location
from tolok.spec.sharing import AlertWhen, Selection, is_email
from tolok.spec.source import PathPart

OWNER = "owner"
"""In `notify:` and `to:`, the owner of each KPI concerned."""


def check_sharing(loaded: LoadedProject) -> None:
    project = loaded.project
    assert project is not None
    for name, channel in project.channels.items():
        if (channel.email or channel.team) and project.email is None:
            loaded.problems.add(
                "TLK008",
                f"channel '{name}' sends e-mail but the project has no e-mail server",
                loaded.locate("channels", name),
                "add `email: {host: smtp.example.com, sender: tolok@example.com}` to tolok.yaml",
            )
    for name, alert in project.alerts.items():
        _check_selection(loaded, project, "alerts", name, alert)
        _check_recipients(loaded, project, "alerts", name, "notify", alert.notify)
        if alert.when is AlertWhen.change and alert.volume is not None:
            measures = {m for d in project.datasets.values() for m in d.measures}
            qualified = {f"{d}.{m}" for d, ds in project.datasets.items() for m in ds.measures}
            known = measures | qualified | project.kpis.keys() | loaded.broken
            if alert.volume not in known:
                where = loaded.locate("alerts", name, "volume")
                _unknown(loaded, where, "measure or KPI", alert.volume, known)
    for name, schedule in project.schedules.items():
        _check_selection(loaded, project, "schedules", name, schedule)
        _check_recipients(loaded, project, "schedules", name, "to", schedule.to)


def _check_selection(
    loaded: LoadedProject, project: Project, section: str, name: str, selection: Selection
) -> None:
    for i, kpi in enumerate(selection.kpis):
        if kpi not in project.kpis.keys() | loaded.broken:
            _unknown(loaded, _item(loaded, section, name, "kpis", i), "KPI", kpi, project.kpis)
    if selection.goal is not None and selection.goal not in project.goals.keys() | loaded.broken:
        where = loaded.locate(section, name, "goal")
        _unknown(loaded, where, "goal", selection.goal, project.goals)


def _check_recipients(
    loaded: LoadedProject,
    project: Project,
    section: str,
    name: str,
    key: str,
    recipients: list[str],
) -> None:
    for i, recipient in enumerate(recipients):
        if recipient == OWNER or recipient in project.channels or recipient in loaded.broken:
            if recipient == OWNER and project.email is None:
                loaded.problems.add(
                    "TLK008",
                    "`owner` is told by e-mail but the project has no e-mail server",
                    _item(loaded, section, name, key, i),
                    "add `email: {host: …, sender: …}` to tolok.yaml, or name a webhook channel",
                )
            continue
        if is_email(recipient):
            if project.email is None:
                loaded.problems.add(
                    "TLK008",
                    f"'{recipient}' is an e-mail address but the project has no e-mail server",
                    _item(loaded, section, name, key, i),
                    "add `email: {host: …, sender: …}` to tolok.yaml",
                )
            continue
        known = [*project.channels, OWNER]
        _unknown(loaded, _item(loaded, section, name, key, i), "channel", recipient, known)


def _item(loaded: LoadedProject, section: str, name: str, key: str, index: int) -> Location:
    """Where a list item was written, or the key when one name was written without a list."""
    raw = loaded.raw(section, name).get(key)
    path: tuple[PathPart, ...] = (key, index) if isinstance(raw, list) else (key,)
    return loaded.locate(section, name, *path)


def _unknown(
    loaded: LoadedProject, where: Location, noun: str, value: str, known: Iterable[str]
) -> None:
    close = difflib.get_close_matches(value, [str(k) for k in known], n=1)
    hint = f"did you mean '{close[0]}'?" if close else None
    loaded.problems.add("TLK008", f"unknown {noun} '{value}'", where, hint)

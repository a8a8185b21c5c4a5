"""Checks of the sharing sections: every KPI, goal, channel and measure they name exists,
and e-mail channels have a server to send through."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from tolok.spec.loaded import LoadedProject
from tolok.spec.models import Project
from tolok.spec.problems import Location, Text, say
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
                say(
                    "channel '{name}' sends e-mail but the project has no e-mail server", name=name
                ),
                loaded.locate("channels", name),
                say(
                    "add `{setting}` to tolok.yaml",
                    setting="email: {host: smtp.example.com, sender: tolok@example.com}",
                ),
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
                _unknown(loaded, where, say("unknown measure or KPI '{name}'"), alert.volume, known)
    for name, schedule in project.schedules.items():
        _check_selection(loaded, project, "schedules", name, schedule)
        _check_recipients(loaded, project, "schedules", name, "to", schedule.to)


def _check_selection(
    loaded: LoadedProject, project: Project, section: str, name: str, selection: Selection
) -> None:
    for i, kpi in enumerate(selection.kpis):
        if kpi not in project.kpis.keys() | loaded.broken:
            where = _item(loaded, section, name, "kpis", i)
            _unknown(loaded, where, say("unknown KPI '{name}'"), kpi, project.kpis)
    if selection.goal is not None and selection.goal not in project.goals.keys() | loaded.broken:
        where = loaded.locate(section, name, "goal")
        _unknown(loaded, where, say("unknown goal '{name}'"), selection.goal, project.goals)


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
                    say("`owner` is told by e-mail but the project has no e-mail server"),
                    _item(loaded, section, name, key, i),
                    say(
                        "add `{setting}` to tolok.yaml, or name a webhook channel",
                        setting="email: {host: …, sender: …}",
                    ),
                )
            continue
        if is_email(recipient):
            if project.email is None:
                loaded.problems.add(
                    "TLK008",
                    say(
                        "'{name}' is an e-mail address but the project has no e-mail server",
                        name=recipient,
                    ),
                    _item(loaded, section, name, key, i),
                    say("add `{setting}` to tolok.yaml", setting="email: {host: …, sender: …}"),
                )
            continue
        known = [*project.channels, OWNER]
        where = _item(loaded, section, name, key, i)
        _unknown(loaded, where, say("unknown channel '{name}'"), recipient, known)


def _item(loaded: LoadedProject, section: str, name: str, key: str, index: int) -> Location:
    """Where a list item was written, or the key when one name was written without a list."""
    raw = loaded.raw(section, name).get(key)
    path: tuple[PathPart, ...] = (key, index) if isinstance(raw, list) else (key,)
    return loaded.locate(section, name, *path)


def _unknown(
    loaded: LoadedProject, where: Location, unknown: Text, value: str, known: Iterable[str]
) -> None:
    """`unknown` is the sentence, `say("unknown goal '{name}'")`, filled with `value`."""
    close = difflib.get_close_matches(value, [str(k) for k in known], n=1)
    hint = say("did you mean '{name}'?", name=close[0]) if close else None
    loaded.problems.add("TLK008", unknown.filled(name=value), where, hint)

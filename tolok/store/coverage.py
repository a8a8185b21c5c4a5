"""Which days each dataset's data covers, from what the last refresh recorded (files: the
first and last day of each file; tables: the earliest and latest time; typed-in values: the
periods entered). No warehouse query: a page or an alert check can afford it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from tolok.spec.calendar import Calendar
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import Grain, Project

Span = tuple[dt.date | None, dt.date | None]


def dataset_spans(loaded: LoadedProject) -> dict[str, Span]:
    """Dataset → (first day, last day) with data; a side the store does not know is None,
    and nothing before the first refresh. An SQLite store is read without SQLAlchemy (as
    stored values are: `tolok show` answers in well under half a second)."""
    project = loaded.project
    assert project is not None
    return {
        dataset: span_of(json.loads(state), Calendar.of(project))
        for dataset, state in _watermarks(loaded, project)
        if dataset in project.datasets
    }


def _watermarks(loaded: LoadedProject, project: Project) -> list[tuple[str, str]]:
    from contextlib import closing

    from tolok.store import reader

    path = reader.sqlite_path(project.store, loaded.root)
    if path is not None:
        if not path.exists():
            return []
        with closing(reader.connect(path)) as connection:
            if reader.revision(connection) is None:
                return []
            rows = connection.execute("SELECT dataset, state FROM watermarks").fetchall()
            return [(str(d), str(s)) for d, s in rows]
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from tolok.store.database import open_store, store_url
    from tolok.store.schema import Watermark

    with Session(open_store(store_url(project.store, loaded.root))) as session:
        found = session.execute(select(Watermark.dataset, Watermark.state)).all()
    return [(str(d), str(s)) for d, s in found]


def span_of(state: dict[str, Any], calendar: Calendar) -> Span:
    kind = state.get("kind")
    if kind == "files":
        files = state.get("files", {}).values()
        firsts = [f["first"] for f in files if f.get("first")]
        lasts = [f["last"] for f in files if f.get("last")]
        return _day(min(firsts) if firsts else None), _day(max(lasts) if lasts else None)
    if kind in ("table", "query"):
        return _day(state.get("first")), _day(state.get("last"))
    if kind == "manual":
        entered = [(Grain(grain), dt.date.fromisoformat(p)) for _, grain, p, *_ in state["values"]]
        if not entered:
            return None, None
        first = min(start for _, start in entered)
        last = max(calendar.end_of(start, grain) for grain, start in entered)
        return first, last - dt.timedelta(days=1)
    return None, None


def _day(text: object) -> dt.date | None:
    return dt.date.fromisoformat(str(text)[:10]) if text else None

"""A KPI not saved yet, computed: the builder's preview of its last periods and the target
history would suggest for it.

The definition is laid over the project as its YAML would be written (`tolok.spec.edit`'s
`prepare`: the whole project validated with the new texts, nothing written), then computed
on the warehouse as a refresh would compute it, and judged as every surface judges
(`tolok.answers.verdicts`). Nothing goes to the store or to the YAML: the preview of a
change is thrown away when the page is left.

Knows nothing of HTTP or of pages: the server's builder API formats what this returns.

The last periods are those of the data, not of the calendar: a spreadsheet of 2017's
orders previews 2017, not twelve empty months up to today.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tolok import clock
from tolok.answers.verdicts import needs_rhythm, series_verdicts, settling_of, spans_of
from tolok.engine.series import KpiSeries, Request
from tolok.spec import edit
from tolok.spec.calendar import Calendar
from tolok.spec.edit import Change
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import KPI
from tolok.track.suggest import Suggestion, suggest
from tolok.track.verdict import Verdict

PERIODS = 12
"""How many periods a preview shows."""
Manual = Callable[[str], Any]
"""The store's typed-in values of a manual dataset (`tolok.store.manual.source`)."""


@dataclass(frozen=True)
class Computed:
    """An unsaved KPI's whole series, every period judged."""

    loaded: LoadedProject  # the project with the definition laid over it
    name: str
    kpi: KPI
    series: KpiSeries
    verdicts: tuple[Verdict, ...]  # one per point of `series`

    def last(self, count: int = PERIODS) -> tuple[Verdict, ...]:
        """The last `count` periods of the data: up to the last one with a value that is
        not nothing (a sum's empty periods are 0, a ratio's None)."""
        filled = [i for i, v in enumerate(self.verdicts) if v.value not in (None, 0)]
        end = filled[-1] + 1 if filled else len(self.verdicts)
        return self.verdicts[max(0, end - count) : end]

    def suggestion(self) -> Suggestion | None:
        """What `tolok suggest-target` would propose from this history: its whole, closed,
        final periods (an open month or a settling conversion would read as a fall) up to
        the last with data (the empty months after data that stopped are no fall either)."""
        if not self.verdicts:
            return None
        end = self.last(1)[-1].period
        judged = [(v.period, v.value) for v in self.verdicts if v.judged and v.period <= end]
        assert self.loaded.project is not None
        per_year = Calendar.of(self.loaded.project).periods_per_year(self.kpi.grain)
        return suggest(self.kpi, judged, per_year)


def overlaid(
    root: Path,
    name: str,
    definition: Mapping[str, Any],
    measures: Mapping[str, Mapping[str, Any]] | None = None,
    before: LoadedProject | None = None,
) -> LoadedProject:
    """The project as it would be with KPI `name` defined so (new, or changed when the
    project has it) and `measures` added to their datasets (dataset → name → measure);
    raises `edit.InvalidError` (located problems) when it would not validate."""
    before = before if before is not None else _load(root)
    changes = [
        Change("datasets", dataset, {"measures": _with(before, dataset, added)}, merge=True)
        for dataset, added in (measures or {}).items()
        if added
    ]
    new = ("kpis", name) not in before.entries
    changes.append(Change("kpis", name, dict(definition), new=new))
    return edit.prepare(root, changes, None, before).after


def _load(root: Path) -> LoadedProject:
    from tolok.spec.loader import load_project

    return load_project(root)


def _with(loaded: LoadedProject, dataset: str, added: Mapping[str, Any]) -> dict[str, Any]:
    """A dataset's measures as written, with `added` after them (a merge replaces the
    whole mapping)."""
    entry = loaded.entries.get(("datasets", dataset))
    if entry is None:
        raise edit.MissingError("datasets", dataset)
    written = edit.as_json(entry.node)
    measures = written.get("measures") if isinstance(written, dict) else None
    return {**(measures if isinstance(measures, dict) else {}), **added}


def computed(
    loaded: LoadedProject,
    name: str,
    manual: Manual | None = None,
    today: dt.date | None = None,
    targets: Mapping[tuple[dt.date, str], float] | None = None,
) -> Computed:
    """KPI `name` of `loaded` computed whole on the warehouse (raises the engine's
    `WarehouseError` when the data cannot be read) and judged on `today` as the board judges
    it: with the targets people set for it in the app (`targets`, by period and slice), and
    its own day-by-day rhythm where its target is split by it."""
    from tolok.answers.views import Known, day_profile_of
    from tolok.engine.compute import compute
    from tolok.engine.warehouse import Warehouse

    project = loaded.project
    assert project is not None
    kpi = project.kpis[name]
    today = today or clock.today(project)
    warehouse = Warehouse(loaded, manual=manual)
    try:
        series = compute(loaded, warehouse, Request((name,), kpi.grain))[name]
    finally:
        warehouse.close()
    series = KpiSeries(name, kpi.grain, (), tuple(p for p in series.points if not p.slice))
    settling = settling_of(project, name, kpi.grain, spans_of(loaded), today)
    known = Known({}, dict(targets or {}))
    if needs_rhythm(project, kpi, series, today, Calendar.of(project)):
        known = replace(known, profile=day_profile_of(loaded, name))
    verdicts = series_verdicts(project, kpi, series, known, today, settling)
    return Computed(loaded, name, kpi, series, tuple(verdicts))

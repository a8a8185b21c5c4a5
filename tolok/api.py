"""tolok from Python: a project opened once, its KPIs as pandas frames.

    >>> import tolok
    >>> project = tolok.open("examples/toko")          # doctest: +SKIP
    >>> project.series("revenue", by=["region"], start="2026-01", end="2026-03")  # doctest: +SKIP
    >>> project.status()                                # doctest: +SKIP

Every answer comes from the code `tolok show`, `tolok status`, `tolok explain` and `tolok
refresh` run, so a notebook and the terminal never disagree: a series is read from the store
when a refresh stored it, else computed from the data; each period carries the verdict every
surface shows. Frames have typed columns: periods as dates (`datetime64`), values as floats,
statuses and headings as categoricals with every possible value, so a filter on
`status == "off_track"` works on a frame that has none.

Errors: `ProjectError` when the project does not validate (its `problems` are located, as
`tolok validate` prints them); `QueryError` when a question cannot be answered as asked (an
unknown KPI or dimension, a bad period, data that cannot be read), saying what to fix.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tolok.spec import LoadedProject, load_project
from tolok.spec.problems import Problem

if TYPE_CHECKING:
    import pandas as pd

STATUSES = ["on_track", "at_risk", "off_track", "no_target", "no_data"]
"""Every status a period may have, in the order of their categorical."""
STATES = ["closed", "open", "not_final", "partial"]
"""What a period is: over, under way, still settling, or covered only in part by the data."""


class ProjectError(ValueError):
    """The project does not validate: `problems` says where and what, as `tolok validate`."""

    def __init__(self, root: Path, problems: list[Problem]) -> None:
        self.root = root
        self.problems = problems
        shown = "\n".join(p.render(root, None) for p in problems)
        super().__init__(f"{len(problems)} problem(s) in {root}:\n{shown}")


class QueryError(ValueError):
    """A question the project cannot answer as asked: the message says what to fix."""


def open(path: str | os.PathLike[str] = ".") -> Project:
    """The project in `path` (its folder or its tolok.yaml), loaded and validated.

    Raises ProjectError with every problem found, each at its file, line and column."""
    loaded = load_project(Path(path))
    errors = [p for p in loaded.problems.items if p.severity.value == "error"]
    if errors or loaded.project is None:
        raise ProjectError(loaded.root, errors)
    return Project(loaded)


@dataclass(frozen=True)
class Project:
    """A validated project: its KPIs' series, statuses and explanations, and its refresh."""

    loaded: LoadedProject

    @property
    def name(self) -> str:
        name: str = self._project.name
        return name

    @property
    def root(self) -> Path:
        return self.loaded.root

    @property
    def kpis(self) -> list[str]:
        """The names of the project's KPIs, as written."""
        return list(self._project.kpis)

    @property
    def _lang(self) -> str:
        """The language of what a person reads (a frame shown in Jupyter): `TOLOK_LANG`,
        else the project's `locale`."""
        asked = os.environ.get("TOLOK_LANG", "")
        lang: str = asked if asked in ("en", "id") else self._project.locale.value
        return lang

    @property
    def _project(self) -> Any:
        assert self.loaded.project is not None
        return self.loaded.project

    def series(
        self,
        kpi: str,
        grain: str | None = None,
        by: str | Sequence[str] = (),
        where: str | None = None,
        start: str | dt.date | None = None,
        end: str | dt.date | None = None,
        compare: str | None = None,
    ) -> pd.DataFrame:
        """A KPI's values, one row per period (and slice of `by`), as `tolok show` gives them.

        `grain`: day, week, month, quarter, year, fiscal_quarter, fiscal_year (default the
        KPI's); `where`: a filter in the formula language (`region == 'Bali'`); `start`,
        `end`: a day or a period label (`2026-03`, `2026-Q1`, `FY2026`); `compare`:
        `previous` or `last_year` (adds `compare` and `change`).

        Columns: `period` (the period's first day), `label`, one per dimension of `by`,
        `value`, [`compare`, `change`], `target`, `status`, `state`, `heading` (the open
        period's), `projected`, `anomaly` (True where the value is unusual)."""
        from tolok.answers.views import SeriesQuery, ViewError, series_json, series_view
        from tolok.compile.errors import CompileError
        from tolok.engine.errors import WarehouseError
        from tolok.spec.models import Grain

        dims = (by,) if isinstance(by, str) else tuple(by)
        try:
            chosen = Grain(grain) if grain is not None else None
        except ValueError:
            grains = ", ".join(g.value for g in Grain)
            raise QueryError(f"grain '{grain}' is not one of {grains}") from None
        query = SeriesQuery(kpi, chosen, dims, _day(start), _day(end), where, compare)
        try:
            data = series_json(series_view(self.loaded, query))
        except ViewError as exc:
            raise QueryError(exc.message) from None
        except (WarehouseError, CompileError) as exc:
            raise QueryError(_said(exc)) from None
        return _series_frame(data, dims, compare is not None, self._lang)

    def status(self) -> pd.DataFrame:
        """Each active KPI's last closed period against its target and the period under
        way, from the store, as `tolok status` shows them; empty before the first refresh.

        Columns: `kpi`, `title`, `period`, `label`, `value`, `target`, `attainment` (1.0 is
        on target), `status`, `open_period`, `so_far`, `projected`, `heading`, `owner`."""
        import pandas as pd

        from tolok import clock
        from tolok.answers.outlook import outlook
        from tolok.answers.verdicts import kpi_states
        from tolok.spec.calendar import Calendar

        project = self._project
        calendar = Calendar.of(project)
        rows = []
        for name, state in kpi_states(self.loaded, clock.today(project)).items():
            kpi = project.kpis[name]
            latest, now = state.latest, outlook(self.loaded, name, state)
            rows.append(
                {
                    "kpi": name,
                    "title": kpi.title or name,
                    "period": latest.period if latest else None,
                    "label": calendar.label(latest.period, kpi.grain) if latest else None,
                    "value": latest.value if latest else None,
                    "target": state.target,
                    "attainment": state.attainment,
                    "status": state.standing.value,
                    "open_period": now.period if now else None,
                    "so_far": now.value if now else None,
                    "projected": now.pace.projected if now else None,
                    "heading": now.pace.heading.value if now and now.judged else None,
                    "owner": kpi.owner,
                }
            )
        columns = ["kpi", "title", "period", "label", "value", "target", "attainment",
                   "status", "open_period", "so_far", "projected", "heading", "owner"]  # fmt: skip
        from tolok.notebook import KpiFrame

        frame = KpiFrame(rows, columns=columns)
        frame.attrs.update(
            tolok="status",
            lang=self._lang,
            currency=project.currency,
            units={name: kpi.unit.value for name, kpi in project.kpis.items()},
        )
        for column in ("period", "open_period"):
            frame[column] = pd.to_datetime(frame[column])
        for column in ("value", "target", "attainment", "so_far", "projected"):
            frame[column] = frame[column].astype("float64")
        for column in ("kpi", "title", "label", "owner"):
            frame[column] = frame[column].astype("string")
        frame["status"] = pd.Categorical(frame["status"], categories=STATUSES)
        frame["heading"] = pd.Categorical(frame["heading"], categories=STATUSES)
        return frame

    def explain(
        self,
        kpi: str,
        period: str | dt.date | None = None,
        by: str | Sequence[str] = (),
        compare: str = "previous",
    ) -> pd.DataFrame:
        """Each value of `by` (a dimension, or several) and its part in the KPI's change
        from the compared period (`previous` or `last_year`) to `period` (default: the last
        closed one), as `tolok explain --by` computes it.

        Columns: one per dimension, `before`, `after`, `change` (its part in the KPI's
        change; for a ratio, `mix` + `rate`), `mix`, `rate`; the frame's `attrs` hold the
        periods compared and the KPI's own values."""
        import pandas as pd

        from tolok.answers.explanation import (
            Compare,
            ExplainError,
            explain,
            last_closed,
            last_judged,
        )
        from tolok.compile.errors import CompileError
        from tolok.engine.errors import WarehouseError
        from tolok.spec.calendar import Calendar, PeriodError

        project = self._project
        if kpi not in project.kpis:
            raise QueryError(f"no KPI named '{kpi}' (KPIs: {', '.join(project.kpis)})")
        spec = project.kpis[kpi]
        dims = (by,) if isinstance(by, str) else tuple(by)
        if not dims:
            dims = tuple(spec.breakdowns[0]) if spec.breakdowns else ()
        calendar = Calendar.of(project)
        try:
            against = Compare(compare)
        except ValueError:
            raise QueryError(f"compare '{compare}' is not previous or last_year") from None
        try:
            if period is None:
                after = last_judged(self.loaded, kpi) or last_closed(project, spec.grain)
            else:
                after = calendar.start_of(calendar.parse(str(period))[1], spec.grain)
            found = explain(self.loaded, kpi, after, dims, against)
        except (ExplainError, PeriodError) as exc:
            raise QueryError(str(exc)) from None
        except (WarehouseError, CompileError) as exc:
            raise QueryError(_said(exc)) from None
        rows = [
            {
                **dict(zip(found.dimensions, part.slice, strict=True)),
                "before": part.before,
                "after": part.after,
                "change": part.total,
                "mix": part.mix,
                "rate": part.rate,
            }
            for part in found.contributions
        ]
        frame = pd.DataFrame(rows, columns=[*found.dimensions, "before", "after", "change",
                                            "mix", "rate"])  # fmt: skip
        for column in ("before", "after", "change", "mix", "rate"):
            frame[column] = frame[column].astype("float64")
        frame.attrs.update(
            kpi=kpi,
            before=found.before,
            after=found.after,
            value_before=found.value_before,
            value_after=found.value_after,
        )
        return frame

    def refresh(self, full: bool = False, reason: str | None = None) -> Refresh:
        """Compute what new data touched (everything with `full`) and keep it in the store,
        as `tolok refresh` does (without its alerts: `tolok refresh` sends those)."""
        from tolok.engine.refresh import refresh_into_store
        from tolok.engine.warehouse import Warehouse
        from tolok.store.database import open_store, store_url
        from tolok.store.manual import source as manual_source

        store = open_store(store_url(self._project.store, self.root))
        warehouse = Warehouse(self.loaded, manual=manual_source(store))
        try:
            _, stored = refresh_into_store(self.loaded, warehouse, store, reason, None, full)
        except Exception as exc:
            from tolok.engine.errors import WarehouseError

            if isinstance(exc, WarehouseError):
                raise QueryError(_said(exc)) from None
            raise
        finally:
            warehouse.close()
        return Refresh(
            recomputed=sorted(stored.recomputed),
            unchanged=sorted(stored.unchanged),
            failed={name: f.message for name, f in stored.failed.items()},
            new_versions=dict(stored.new_versions),
        )


@dataclass(frozen=True)
class Refresh:
    """What a refresh did: the KPIs it computed, those it left as they were, those that
    failed (with why) and the new versions of definitions that changed."""

    recomputed: list[str]
    unchanged: list[str]
    failed: dict[str, str]
    new_versions: dict[str, int]


def _day(value: str | dt.date | None) -> str | None:
    return value.isoformat() if isinstance(value, dt.date) else value


def _said(exc: Exception) -> str:
    hint = getattr(exc, "hint", None)
    message = str(getattr(exc, "message", exc))
    return f"{message} ({hint})" if hint else message


def _series_frame(
    data: dict[str, Any], by: tuple[str, ...], compared: bool, lang: str
) -> pd.DataFrame:
    import pandas as pd

    from tolok.notebook import KpiFrame

    points: list[dict[str, Any]] = data["points"]
    rows = []
    for point in points:
        row: dict[str, Any] = {"period": point["start"], "label": point["period"]}
        row.update({d: point.get("slice", {}).get(d) for d in by})
        row["value"] = point["value"]
        if compared:
            row["compare"], row["change"] = point.get("compare"), point.get("change")
        row.update(
            target=point["target"],
            status=point["status"],
            state=point["state"],
            heading=point.get("heading"),
            projected=point.get("projected"),
            anomaly=point["anomaly"] is not None,
        )
        rows.append(row)
    numbers = ["value", *(["compare", "change"] if compared else []), "target", "projected"]
    columns = ["period", "label", *by, *numbers[:-2], "target", "status", "state", "heading",
               "projected", "anomaly"]  # fmt: skip
    frame = KpiFrame(rows, columns=columns)
    frame["period"] = pd.to_datetime(frame["period"])
    frame["label"] = frame["label"].astype("string")
    for column in numbers:
        frame[column] = frame[column].astype("float64")
    frame["status"] = pd.Categorical(frame["status"], categories=STATUSES)
    frame["heading"] = pd.Categorical(frame["heading"], categories=STATUSES)
    frame["state"] = pd.Categorical(frame["state"], categories=STATES)
    frame["anomaly"] = frame["anomaly"].astype("bool")
    frame.attrs.update(
        tolok="series", lang=lang, by=list(by), kpi=data["kpi"], title=data["title"],
        unit=data["unit"], currency=data["currency"], grain=data["grain"],
        computed_at=data["computed_at"],
    )  # fmt: skip
    return frame

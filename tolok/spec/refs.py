"""What a name in a KPI formula refers to: a measure of a dataset, or another KPI.

Rule: a name is a measure if some dataset defines a measure of that name (write
`dataset.measure` when several do); otherwise it is a KPI. So a KPI may share its name
with the measure it shows (`revenue: {formula: revenue}`).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from tolok.spec.formula import Name
from tolok.spec.functions import Type
from tolok.spec.models import Project
from tolok.spec.typecheck import FormulaIssue, Lookup, NameResolver


@dataclass(frozen=True)
class MeasureRef:
    dataset: str
    measure: str

    def __str__(self) -> str:
        return f"{self.dataset}.{self.measure}"


@dataclass(frozen=True)
class KpiRef:
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Scope:
    """Every name a KPI formula can use, built once per project."""

    project: Project
    measures: dict[str, tuple[MeasureRef, ...]]
    silent: frozenset[str] = frozenset()

    @classmethod
    def of(cls, project: Project, silent: frozenset[str] = frozenset()) -> Scope:
        """`silent`: names of definitions already reported as broken; a reference to one
        is not reported a second time."""
        measures: dict[str, list[MeasureRef]] = {}
        for dataset_name, dataset in project.datasets.items():
            for measure in dataset.measures:
                measures.setdefault(measure, []).append(MeasureRef(dataset_name, measure))
        return cls(project, {k: tuple(v) for k, v in measures.items()}, silent)

    def resolve(self, name: Name) -> MeasureRef | KpiRef | FormulaIssue:
        """The measure or KPI `name` means, or an issue saying why it means nothing."""
        if name.qualifier is not None:
            return self._qualified(name)
        found = self.measures.get(name.name, ())
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            options = " or ".join(str(ref) for ref in found)
            return FormulaIssue(
                "TLK015",
                f"'{name.name}' is a measure of several datasets",
                name.span,
                f"say which one: {options}",
            )
        if name.name in self.project.kpis:
            return KpiRef(name.name)
        return FormulaIssue("TLK011", f"unknown name '{name.name}'", name.span, self._hint(name))

    def resolver(self) -> NameResolver:
        """Type lookup for the formula checker: every measure and KPI is a number."""

        def resolve(name: Name) -> Lookup:
            found = self.resolve(name)
            if isinstance(found, FormulaIssue):
                quiet = name.name in self.silent or (name.qualifier or "") in self.silent
                return Lookup(None, None if quiet else found)
            return Lookup(Type.number)

        return resolve

    def is_kpi_ref(self, name: Name) -> bool:
        return isinstance(self.resolve(name), KpiRef)

    def _qualified(self, name: Name) -> MeasureRef | FormulaIssue:
        dataset = self.project.datasets.get(name.qualifier or "")
        if dataset is None:
            close = difflib.get_close_matches(name.qualifier or "", list(self.project.datasets), 1)
            hint = (
                f"did you mean '{close[0]}'?"
                if close
                else "datasets: " + ", ".join(self.project.datasets)
            )
            return FormulaIssue("TLK011", f"unknown dataset '{name.qualifier}'", name.span, hint)
        if name.name not in dataset.measures:
            close = difflib.get_close_matches(name.name, list(dataset.measures), 1)
            hint = (
                f"did you mean '{close[0]}'?"
                if close
                else "its measures: " + ", ".join(dataset.measures)
            )
            return FormulaIssue(
                "TLK011",
                f"dataset '{name.qualifier}' has no measure '{name.name}'",
                name.span,
                hint,
            )
        return MeasureRef(name.qualifier or "", name.name)

    def _hint(self, name: Name) -> str:
        known = [*self.measures, *self.project.kpis]
        close = difflib.get_close_matches(name.name, known, n=1, cutoff=0.6)
        if close:
            return f"did you mean '{close[0]}'?"
        dataset_named = self.project.datasets.get(name.name)
        if dataset_named is not None:
            measures = ", ".join(dataset_named.measures) or "none yet"
            return f"'{name.name}' is a dataset; use one of its measures: {measures}"
        for dataset_name, dataset in self.project.datasets.items():
            if name.name in dataset.dimensions or name.name == dataset.time:
                return (
                    f"'{name.name}' is a column of dataset '{dataset_name}'; KPI formulas use "
                    f"measures: add one under datasets.{dataset_name}.measures"
                )
        return "KPI formulas use measures (datasets.*.measures) and other KPIs"

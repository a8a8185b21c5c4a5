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
from tolok.spec.problems import Text, say
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
                say("'{name}' is a measure of several datasets", name=name.name),
                name.span,
                say("say which one: {options}", options=options),
            )
        if name.name in self.project.kpis:
            return KpiRef(name.name)
        return FormulaIssue(
            "TLK011", say("unknown name '{name}'", name=name.name), name.span, self._hint(name)
        )

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
                say("did you mean '{name}'?", name=close[0])
                if close
                else say("datasets: {names}", names=", ".join(self.project.datasets))
            )
            return FormulaIssue(
                "TLK011", say("unknown dataset '{name}'", name=name.qualifier), name.span, hint
            )
        if name.name not in dataset.measures:
            close = difflib.get_close_matches(name.name, list(dataset.measures), 1)
            hint = (
                say("did you mean '{name}'?", name=close[0])
                if close
                else say("its measures: {names}", names=", ".join(dataset.measures))
            )
            return FormulaIssue(
                "TLK011",
                say(
                    "dataset '{dataset}' has no measure '{name}'",
                    dataset=name.qualifier,
                    name=name.name,
                ),
                name.span,
                hint,
            )
        return MeasureRef(name.qualifier or "", name.name)

    def _hint(self, name: Name) -> Text:
        known = [*self.measures, *self.project.kpis]
        close = difflib.get_close_matches(name.name, known, n=1, cutoff=0.6)
        if close:
            return say("did you mean '{name}'?", name=close[0])
        dataset_named = self.project.datasets.get(name.name)
        if dataset_named is not None:
            if not dataset_named.measures:
                return say("'{name}' is a dataset; it has no measures yet", name=name.name)
            measures = ", ".join(dataset_named.measures)
            return say(
                "'{name}' is a dataset; use one of its measures: {measures}",
                name=name.name,
                measures=measures,
            )
        for dataset_name, dataset in self.project.datasets.items():
            if name.name in dataset.dimensions or name.name == dataset.time:
                return say(
                    "'{name}' is a column of dataset '{dataset}'; KPI formulas use measures: "
                    "add one under datasets.{dataset}.measures",
                    name=name.name,
                    dataset=dataset_name,
                )
        return say("KPI formulas use measures (datasets.*.measures) and other KPIs")

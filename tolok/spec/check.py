"""Checks across definitions: formulas, names, references, cycles, files and columns.

Runs after every entry validated on its own; each check adds problems with the exact
place and never stops the others.
"""

from __future__ import annotations

import csv
import difflib
from collections.abc import Iterable
from itertools import islice

from tolok.spec.check_sharing import check_sharing
from tolok.spec.columns import SAMPLE_ROWS, ColumnSet, dataset_columns
from tolok.spec.folders import (
    OUTSIDE_HINT_SAID,
    match_files,
    on_spark,
    outside_message,
    remote,
    remote_refused,
)
from tolok.spec.formula import FormulaError, Name, Node, Span, parse_formula, quote_name, walk
from tolok.spec.functions import Context, Type
from tolok.spec.joins import reaches
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import Agg, Dataset, Measure, OverTime, Project
from tolok.spec.problems import Location, Text, say
from tolok.spec.refs import KpiRef, MeasureRef, Scope
from tolok.spec.source import locate_in_scalar
from tolok.spec.typecheck import Checker, FormulaIssue, Lookup

_EXPR_TYPE = {
    Agg.sum: Type.number,
    Agg.avg: Type.number,
    Agg.median: Type.number,
    Agg.percentile: Type.number,
    Agg.sum_boolean: Type.boolean,
}


def check_project(loaded: LoadedProject) -> None:
    project = loaded.project
    assert project is not None
    _check_goals(loaded, project)
    for name, dataset in project.datasets.items():
        _check_dataset(loaded, name, dataset)
    scope = Scope.of(project, frozenset(loaded.broken))
    edges: dict[str, list[tuple[str, Span]]] = {}
    for name, formula in _kpi_formulas(loaded, project).items():
        tree = _parse(loaded, ("kpis", name, "formula"), formula)
        if tree is None:
            continue
        checker = Checker(Context.kpi, scope.resolver())
        checker.check(tree, Type.number)
        _report_formula(loaded, ("kpis", name, "formula"), checker.issues)
        edges[name] = [(n.name, n.span) for n in _names(tree) if scope.is_kpi_ref(n)]
    _check_kpi_cycles(loaded, edges)
    _check_breakdowns(loaded, project, scope, edges)
    for name, kpi in project.kpis.items():
        if kpi.goal is not None and kpi.goal not in project.goals.keys() | loaded.broken:
            _unknown_reference(loaded, ("kpis", name, "goal"), "goal", kpi.goal, project.goals)
    check_sharing(loaded)


def _kpi_formulas(loaded: LoadedProject, project: Project) -> dict[str, str]:
    """Formulas of every KPI, including those whose other keys failed validation: a typo
    in `grain` should not hide a mistake in the formula."""
    formulas = {name: kpi.formula for name, kpi in project.kpis.items()}
    for (section, name), entry in loaded.entries.items():
        if section == "kpis" and name not in formulas and hasattr(entry.node, "get"):
            formula = entry.node.get("formula")
            if isinstance(formula, str):
                formulas[name] = formula
    return dict(sorted(formulas.items()))


def _check_goals(loaded: LoadedProject, project: Project) -> None:
    for name, goal in project.goals.items():
        if goal.parent is not None and goal.parent not in project.goals.keys() | loaded.broken:
            _unknown_reference(
                loaded, ("goals", name, "parent"), "goal", goal.parent, project.goals
            )
    for start in sorted(project.goals):
        seen: list[str] = []
        current: str | None = start
        while current is not None and current in project.goals and current not in seen:
            seen.append(current)
            current = project.goals[current].parent
        if current == start:
            loop = " → ".join([*seen, start])
            where = loaded.locate("goals", start, "parent")
            loaded.problems.add(
                "TLK014",
                say("goals form a cycle: {loop}", loop=loop),
                where,
                say("a goal cannot be its own ancestor"),
            )


def _columns(loaded: LoadedProject, dataset: Dataset) -> ColumnSet:
    assert loaded.project is not None
    return dataset_columns(loaded.root, dataset, loaded.project.data_dirs)


def _check_files(loaded: LoadedProject, name: str, pattern: str) -> None:
    """The files a `file:` source matches: some, and none outside the project folder and
    `data_dirs` (TLK018)."""
    assert loaded.project is not None
    where = loaded.locate("datasets", name, "source")
    scheme = remote(pattern)
    if scheme is not None:
        if not on_spark(loaded.project.warehouse):
            message, hint = remote_refused(pattern, scheme)
            loaded.problems.add("TLK007", message, where, hint)
        return  # the cluster lists them when it reads them: nothing here can
    matched = match_files(loaded.root, pattern, loaded.project.data_dirs)
    if matched.refused:
        loaded.problems.add(
            "TLK018", outside_message(loaded.root, pattern, matched), where, OUTSIDE_HINT_SAID
        )
    elif not matched.files:
        loaded.problems.add(
            "TLK007",
            say("no file matches '{pattern}'", pattern=pattern),
            where,
            say("paths are relative to the project folder; globs like data/*.csv are allowed"),
        )


def _check_dataset(loaded: LoadedProject, name: str, dataset: Dataset) -> None:
    pattern = dataset.file_pattern
    if pattern is not None:
        _check_files(loaded, name, pattern)
    columns = _columns(loaded, dataset)
    named: list[tuple[str, int | None]] = [("time", None)] if dataset.time else []
    named += [("dimensions", i) for i in range(len(dataset.dimensions))]
    named += [("key", i) for i in range(len(dataset.key))]
    for part, index in named:
        value = getattr(dataset, part) if index is None else getattr(dataset, part)[index]
        path = ("datasets", name, part) if index is None else ("datasets", name, part, index)
        issue = _column_issue(value, columns, Span(0, len(value)))
        if issue is not None:
            loaded.problems.add(issue.code, issue.said, loaded.locate(*path), issue.hinted)
    _check_time_type(loaded, name, dataset, columns)
    _check_refs(loaded, name, dataset, columns)
    for measure_name, measure in dataset.measures.items():
        base = ("datasets", name, "measures", measure_name)
        if dataset.snapshot and measure.over_time is not OverTime.sum:
            loaded.problems.add(
                "TLK004",
                say(
                    "a snapshot (`time: none`) holds one state per refresh, and each period "
                    "keeps its last refresh's value; `over_time` needs a time column"
                ),
                loaded.locate(*base, "over_time", key=True),
                say("remove over_time, or give the dataset `time:` with its snapshot date column"),
            )
        if dataset.is_manual:
            if measure.expr is not None or measure.where is not None:
                loaded.problems.add(
                    "TLK004",
                    say(
                        "measures of a manual dataset take typed-in values; `expr` and `where` "
                        "do not apply"
                    ),
                    loaded.locate(*base, "expr" if measure.expr is not None else "where", key=True),
                    say("remove them, or read the dataset from a file or table"),
                )
            continue
        resolver = _RowResolver(dataset, columns, _lookup_columns(loaded, dataset))
        expr = measure.expr
        if measure.agg is Agg.conversion:
            _check_conversion(loaded, base, measure, resolver)
        elif expr is None and measure.agg not in (Agg.count,):
            expr = quote_name(measure_name)
            tree = parse_formula(expr)
            checker = Checker(Context.row, resolver)
            checker.check(tree, _EXPR_TYPE.get(measure.agg, Type.any))
            _report_formula(loaded, (*base,), checker.issues, key=True, default_expr=True)
        elif expr is not None:
            _check_row_formula(loaded, (*base, "expr"), expr, resolver, measure.agg)
        if measure.where is not None:
            _check_row_formula(loaded, (*base, "where"), measure.where, resolver, None)


def _check_time_type(
    loaded: LoadedProject, name: str, dataset: Dataset, columns: ColumnSet
) -> None:
    """The time column, where its type is known before any warehouse is read: declared,
    or sampled from a file (numbers, true/false, or text with a value holding no digit at
    all, like `soon`: other text may be a date the file reader knows, as 03/15/2026)."""
    time = dataset.time
    kind = columns.types.get(time) if time else None
    if time is None or kind in (None, Type.time, Type.any):
        return
    declared = dataset.columns.get(time)
    origin = columns.origin
    if declared is not None:
        message = say(
            "the time column '{time}' is declared {kind}, not date or timestamp: no "
            "row could be given a period",
            time=time,
            kind=declared.value,
        )
    elif kind is Type.text:
        word = _wordy_value(loaded, dataset, time)
        if word is None:
            return
        message = say(
            "the time column '{time}' holds '{value}' ({origin}), not a date or "
            "timestamp: no row could be given a period",
            time=time,
            value=word,
            origin=origin,
        )
    elif kind is Type.number:
        message = say(
            "the time column '{time}' holds numbers ({origin}), not dates or "
            "timestamps: no row could be given a period",
            time=time,
            origin=origin,
        )
    else:
        message = say(
            "the time column '{time}' holds true and false ({origin}), not dates or "
            "timestamps: no row could be given a period",
            time=time,
            origin=origin,
        )
    loaded.problems.add(
        "TLK012",
        message,
        loaded.locate("datasets", name, "time"),
        say(
            "give it dates (2026-03-15) or timestamps, or declare `{declaration}` if its values "
            "are dates",
            declaration="columns: {" + quote_name(time) + ": timestamp}",
        ),
    )


def _wordy_value(loaded: LoadedProject, dataset: Dataset, column: str) -> str | None:
    """A value of a CSV's column without a digit (so no date), among the sampled rows of
    the first file (as `dataset_columns` samples them)."""
    assert loaded.project is not None
    pattern = dataset.file_pattern
    files = match_files(loaded.root, pattern, loaded.project.data_dirs).files if pattern else []
    if not files or files[0].suffix.lower() not in (".csv", ".tsv", ".txt"):
        return None
    delimiter = "\t" if files[0].suffix.lower() == ".tsv" else ","
    try:
        with files[0].open(newline="", encoding="utf-8-sig") as handle:
            for row in islice(csv.DictReader(handle, delimiter=delimiter), SAMPLE_ROWS):
                value = (row.get(column) or "").strip()
                if value and not any(c.isdigit() for c in value):
                    return value
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    return None


def _check_conversion(
    loaded: LoadedProject, base: tuple[str, ...], measure: Measure, resolver: _RowResolver
) -> None:
    """The entity column here, and the later event's dataset, entity and filter there."""
    project = loaded.project
    assert project is not None
    assert measure.entity is not None
    assert measure.to is not None
    issue = _column_issue(measure.entity, resolver.columns, Span(0, len(measure.entity)))
    if issue is not None:
        loaded.problems.add(issue.code, issue.said, loaded.locate(*base, "entity"), issue.hinted)
    target = project.datasets.get(measure.to)
    if target is None:
        if measure.to not in loaded.broken:
            _unknown_reference(loaded, (*base, "to"), "dataset", measure.to, project.datasets)
        return
    if target.time is None:
        loaded.problems.add(
            "TLK004",
            say("dataset '{name}' has no `time`, so no conversion can be timed", name=measure.to),
            loaded.locate(*base, "to"),
        )
        return
    there = _RowResolver(target, _columns(loaded, target))
    entity = measure.to_entity or measure.entity
    key = "to_entity" if measure.to_entity else "entity"
    issue = _column_issue(entity, there.columns, Span(0, len(entity)))
    if issue is not None:
        message = issue.said + say(" of dataset '{name}'", name=measure.to)
        loaded.problems.add(issue.code, message, loaded.locate(*base, key), issue.hinted)
    if measure.to_where is not None:
        _check_row_formula(loaded, (*base, "to_where"), measure.to_where, there, None)


def _check_row_formula(
    loaded: LoadedProject,
    path: tuple[str, ...],
    text: str,
    resolver: _RowResolver,
    agg: Agg | None,
) -> None:
    tree = _parse(loaded, path, text)
    if tree is None:
        return
    checker = Checker(Context.row, resolver)
    expected = Type.boolean if agg is None else _EXPR_TYPE.get(agg, Type.any)
    checker.check(tree, expected)
    _report_formula(loaded, path, checker.issues)


class _RowResolver:
    """Names in `expr` and `where` are the dataset's columns, or those of a lookup it refers
    to, qualified by its name (`customers.segment`)."""

    def __init__(
        self,
        dataset: Dataset,
        columns: ColumnSet,
        lookups: dict[str, ColumnSet] | None = None,
    ) -> None:
        self.columns = columns
        self.time = dataset.time
        self.lookups = lookups or {}

    def __call__(self, name: Name) -> Lookup:
        if name.qualifier is not None:
            there = self.lookups.get(name.qualifier)
            if there is None:
                return Lookup(None, self._not_reached(name))
            issue = _column_issue(name.name, there, name.span)
            return Lookup(None, issue) if issue else Lookup(there.types.get(name.name, Type.any))
        if name.name == self.time:
            return Lookup(Type.time)
        issue = _column_issue(name.name, self.columns, name.span)
        if issue is not None:
            return Lookup(None, issue)
        return Lookup(self.columns.types.get(name.name, Type.any))

    def _not_reached(self, name: Name) -> FormulaIssue:
        reached = ", ".join(sorted(self.lookups))
        return FormulaIssue(
            "TLK016",
            (
                say(
                    "'{qualifier}.{name}': '{qualifier}' is not a dataset this one refers to (it "
                    "refers to: {reached})",
                    qualifier=name.qualifier,
                    name=name.name,
                    reached=reached,
                )
                if reached
                else say(
                    "'{qualifier}.{name}': '{qualifier}' is not a dataset this one refers to",
                    qualifier=name.qualifier,
                    name=name.name,
                )
            ),
            name.span,
            say(
                "add `{refs}` to this dataset, or write `{qualifier}.{name}` in backticks if it "
                "is one column name",
                refs=Text.plain("refs: {")
                + say("its key column")
                + (": " + (name.qualifier or "") + "}"),
                qualifier=name.qualifier,
                name=name.name,
            ),
        )


def _lookup_columns(loaded: LoadedProject, dataset: Dataset) -> dict[str, ColumnSet]:
    """The columns of each dataset `dataset` refers to, by its name."""
    project = loaded.project
    assert project is not None
    return {
        target: _columns(loaded, project.datasets[target])
        for target in dataset.refs.values()
        if target in project.datasets
    }


def _check_refs(loaded: LoadedProject, name: str, dataset: Dataset, columns: ColumnSet) -> None:
    """Each ref names a column here and a lookup dataset there, identified by one column
    (its `key`), which holds no measures over time that the join would repeat."""
    project = loaded.project
    assert project is not None
    if dataset.refs and dataset.is_manual:
        loaded.problems.add(
            "TLK004",
            say("a manual dataset cannot refer to others: its rows are typed in per period"),
            loaded.locate("datasets", name, "refs", key=True),
            say("remove refs"),
        )
        return
    seen: dict[str, str] = {}
    for via, target in dataset.refs.items():
        path = ("datasets", name, "refs", via)
        issue = _column_issue(via, columns, Span(0, len(via)))
        if issue is not None:
            loaded.problems.add(
                issue.code, issue.said, loaded.locate(*path, key=True), issue.hinted
            )
        if target not in project.datasets:
            if target not in loaded.broken:
                _unknown_reference(loaded, path, "dataset", target, project.datasets)
            continue
        if target == name:
            loaded.problems.add(
                "TLK004", say("dataset '{name}' refers to itself", name=name),
                loaded.locate(*path),
                say("refs name other datasets (lookups such as customers or products)"),
            )  # fmt: skip
            continue
        if target in seen:
            loaded.problems.add(
                "TLK004",
                say(
                    "'{name}' is referred to twice (through '{first}' and '{second}'): "
                    "'{name}.…' would not say which",
                    name=target,
                    first=seen[target],
                    second=via,
                ),
                loaded.locate(*path),
                say(
                    "refer to it once; a second role (billing and shipping customer) needs a "
                    "dataset of its own"
                ),
            )
            continue
        seen[target] = via
        lookup = project.datasets[target]
        if len(lookup.key) != 1:
            loaded.problems.add(
                "TLK004",
                (
                    say(
                        "dataset '{name}' needs `key: [one column]` for '{other}' to join on it "
                        "(its key: {key})",
                        name=target,
                        other=name,
                        key=", ".join(lookup.key),
                    )
                    if lookup.key
                    else say(
                        "dataset '{name}' needs `key: [one column]` for '{other}' to join on "
                        "it (it has no key)",
                        name=target,
                        other=name,
                    )
                ),
                loaded.locate(*path),
                say(
                    "give '{name}' the column that identifies its rows, e.g. key: [{column}]",
                    name=target,
                    column=via,
                ),
            )
        if lookup.is_manual:
            loaded.problems.add(
                "TLK004",
                say(
                    "dataset '{name}' is typed in per period; it cannot be joined as a lookup",
                    name=target,
                ),
                loaded.locate(*path),
            )


def _column_issue(column: str, columns: ColumnSet, span: Span) -> FormulaIssue | None:
    if column in columns.types or not columns.complete:
        return None
    exact = [c for c in columns.types if c.casefold() == column.casefold()]
    close = exact or difflib.get_close_matches(column, list(columns.types), n=1, cutoff=0.6)
    if close:
        hint = say("did you mean {name}?", name=quote_name(close[0]))
    else:
        hint = say("columns: {names}", names=", ".join(quote_name(c) for c in columns.types))
    message = say("unknown column '{name}' (not in {origin})", name=column, origin=columns.origin)
    return FormulaIssue("TLK016", message, span, hint)


def _parse(loaded: LoadedProject, path: tuple[str, ...], text: str) -> Node | None:
    try:
        return parse_formula(text)
    except FormulaError as exc:
        issue = FormulaIssue(exc.code, exc.text, exc.span, exc.hint_text)
        _report_formula(loaded, path, [issue])
        return None


def _report_formula(
    loaded: LoadedProject,
    path: tuple[str, ...],
    issues: Iterable[FormulaIssue],
    *,
    key: bool = False,
    default_expr: bool = False,
) -> None:
    section, name, *rest = path
    for issue in issues:
        if key or default_expr:
            where = loaded.locate(section, name, *rest, key=True)
            message = issue.said
            if default_expr:
                message += say(" (a measure without `expr` aggregates the column of its own name)")
            loaded.problems.add(issue.code, message, where, issue.hinted)
            continue
        start = loaded.locate(section, name, *rest)
        raw = loaded.raw(section, name, *rest)
        entry = loaded.entries[(section, name)]
        where = locate_in_scalar(entry.file, start, raw, issue.span.start)
        end = locate_in_scalar(entry.file, start, raw, max(issue.span.end - 1, issue.span.start))
        length = end.col - where.col + 1 if end.line == where.line else 1
        hint = CUT_BY_COMMA if _cut_by_comma(loaded, section, name, rest, raw) else issue.hinted
        loaded.problems.add(
            issue.code, issue.said, Location(where.file, where.line, where.col, length), hint
        )


CUT_BY_COMMA = say(
    'inside {braces} a comma ends the value: quote the formula, e.g. "ratio(a, b)"', braces="{ … }"
)


def _cut_by_comma(
    loaded: LoadedProject, section: str, name: str, rest: list[str], raw: object
) -> bool:
    """A formula written in a `{…}` mapping without quotes, cut at its first comma: YAML
    read `ratio(clicks` as the formula and ` impressions)` as the next key."""
    text = str(raw)
    if text.count("(") <= text.count(")"):
        return False
    parent = loaded.raw(section, name, *rest[:-1])
    style = getattr(getattr(parent, "fa", None), "flow_style", None)
    return bool(style and style())


def _names(tree: Node) -> list[Name]:
    return [n for n in walk(tree) if isinstance(n, Name)]


def _check_breakdowns(
    loaded: LoadedProject,
    project: Project,
    scope: Scope,
    edges: dict[str, list[tuple[str, Span]]],
) -> None:
    """A KPI can be broken down by the dimensions all of its datasets share."""
    for name, kpi in project.kpis.items():
        if not kpi.breakdowns or name not in edges:
            continue
        datasets = _datasets_of(name, project, scope, set())
        for index, dimensions in enumerate(kpi.breakdowns):
            repeated = sorted({d for d in dimensions if dimensions.count(d) > 1})
            if repeated:
                loaded.problems.add(
                    "TLK004",
                    say("'{name}' appears twice in one breakdown", name=repeated[0]),
                    loaded.locate("kpis", name, "breakdowns", index),
                    say("name each dimension once"),
                )
            for dimension in dimensions:
                lacking = [d for d in sorted(datasets) if not reaches(project, d, dimension)]
                if lacking:
                    loaded.problems.add(
                        "TLK016",
                        (
                            say(
                                "cannot break down by '{dimension}': dataset '{name}' does not "
                                "have it nor refer to a dataset that does",
                                dimension=dimension,
                                name=lacking[0],
                            )
                            if "." in dimension
                            else say(
                                "cannot break down by '{dimension}': dataset '{name}' does "
                                "not have it",
                                dimension=dimension,
                                name=lacking[0],
                            )
                        ),
                        loaded.locate("kpis", name, "breakdowns", index),
                        say(
                            "break down by a dimension every dataset of the KPI lists or "
                            "reaches through refs (customers.segment)"
                        ),
                    )


def _datasets_of(name: str, project: Project, scope: Scope, seen: set[str]) -> set[str]:
    if name in seen:
        return set()
    seen.add(name)
    out: set[str] = set()
    try:
        tree = parse_formula(project.kpis[name].formula)
    except FormulaError:
        return out
    for node in _names(tree):
        found = scope.resolve(node)
        if isinstance(found, MeasureRef):
            out.add(found.dataset)
        elif isinstance(found, KpiRef):
            out |= _datasets_of(found.name, project, scope, seen)
    return out


def _check_kpi_cycles(loaded: LoadedProject, edges: dict[str, list[tuple[str, Span]]]) -> None:
    reported: set[frozenset[str]] = set()
    for start in sorted(edges):
        cycle = _find_cycle(start, edges)
        if cycle is None or frozenset(cycle) in reported:
            continue
        reported.add(frozenset(cycle))
        first_ref = next(span for target, span in edges[start] if target == cycle[1 % len(cycle)])
        loop = " → ".join([*cycle, start])
        issue = FormulaIssue(
            "TLK014",
            say("KPIs refer to each other in a cycle: {loop}", loop=loop),
            first_ref,
            say("break the loop: one of these KPIs must be computed from measures only"),
        )
        _report_formula(loaded, ("kpis", start, "formula"), [issue])


def _find_cycle(start: str, edges: dict[str, list[tuple[str, Span]]]) -> list[str] | None:
    """The shortest path of KPI references that leads from `start` back to it."""
    frontier: list[list[str]] = [[start]]
    seen = {start}
    while frontier:
        path = frontier.pop(0)
        for target, _ in edges.get(path[-1], []):
            if target == start:
                return path
            if target not in seen:
                seen.add(target)
                frontier.append([*path, target])
    return None


def _unknown_reference(
    loaded: LoadedProject, path: tuple[str, ...], noun: str, value: str, known: Iterable[str]
) -> None:
    close = difflib.get_close_matches(value, list(known), n=1)
    hint = (
        say("did you mean '{name}'?", name=close[0])
        if close
        else say("define it under `{section}:`", section=noun + "s")
    )
    message = UNKNOWN.get(noun, say("unknown {noun} '{name}'", noun=noun)).filled(name=value)
    loaded.problems.add("TLK008", message, loaded.locate(*path), hint)


UNKNOWN = {
    "goal": say("unknown goal '{name}'"),
    "dataset": say("unknown dataset '{name}'"),
    "KPI": say("unknown KPI '{name}'"),
}

"""`tolok catalog add`: a catalog template written into a project's YAML as a working KPI.

Planning is pure (`plan`): which measures each dataset gets (or already has), the KPI's YAML.
Writing (`write`) edits the files the datasets and KPIs live in with ruamel's round trip, so
comments, key order and quoting stay as the team wrote them; the project is then loaded
again, and if it does not validate every file is put back as it was.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from tolok.catalog.templates import Template
from tolok.spec.edit import atomic_write, flow, load_rt, section_of, yaml_for
from tolok.spec.formula import rename
from tolok.spec.loaded import LoadedProject
from tolok.spec.loader import load_project
from tolok.spec.models import Measure, Project
from tolok.spec.problems import Problem, Text, Voice, say


class CatalogError(ValueError):
    """A template that cannot be added as asked; the message says what to change, in the
    reader's language when worded (`worded`), and `field` what of the request it is about
    (`datasets`, `columns`, `name`, `goal`)."""

    def __init__(self, said: str | Text, field: str | None = None) -> None:
        self.said = said if isinstance(said, Text) else Text.plain(said)
        self.field = field
        super().__init__(str(self.said))

    def worded(self, voice: Voice | None = None) -> str:
        return self.said.worded(voice)


@dataclass
class Plan:
    kpi_name: str
    kpi: dict[str, Any]
    new_measures: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    """Per dataset: the measures to add, as YAML mappings."""
    reused: dict[str, str] = field(default_factory=dict)
    """Template measure → the project's existing measure with the same definition."""


def plan(
    name: str,
    template: Template,
    project: Project,
    datasets: dict[str, str],
    columns: dict[str, str],
    kpi_name: str | None = None,
    owner: str | None = None,
    goal: str | None = None,
) -> Plan:
    """What adding `template` to `project` writes. `datasets`: table role → dataset (a key
    `""` stands for every role); `columns`: template column → the project's column."""
    kpi_name = kpi_name or name
    if kpi_name in project.kpis:
        raise CatalogError(say("the project already has a KPI named '{name}': pick another "
                               "name", name=kpi_name), "name")  # fmt: skip
    if goal is not None and goal not in project.goals:
        known = ", ".join(project.goals) or "-"
        raise CatalogError(say("no goal named '{goal}' (goals: {known})", goal=goal,
                               known=known), "goal")  # fmt: skip
    inputs = [*template.columns(), *(t.time for t in template.tables.values())]
    unknown = sorted(set(columns) - set(inputs))
    if unknown:
        raise CatalogError(
            say("{source} has no input column '{column}'; its columns: {columns}",
                source=name, column=unknown[0], columns=", ".join(inputs)),
            "columns",
        )  # fmt: skip
    role_to_dataset = _datasets_of_roles(name, template, project, datasets)
    rename_columns = {c: columns.get(c, c) for c in template.columns()}
    for role, table in template.tables.items():
        # The template's own time column stands for the dataset's `time:`.
        dataset_time = project.datasets[role_to_dataset[role]].time or ""
        rename_columns[table.time] = columns.get(table.time, dataset_time)

    result = Plan(kpi_name=kpi_name, kpi={})
    taken = {m for d in project.datasets.values() for m in d.measures} | set(project.kpis)
    measure_names: dict[str, str] = {}
    for measure_name, (role, measure) in template.measures().items():
        dataset = role_to_dataset[role]
        written = _measure_yaml(measure, rename_columns, role_to_dataset)
        wanted = Measure.model_validate(written)
        existing = project.datasets[dataset].measures
        same = [m for m, defined in existing.items() if _same(defined, wanted)]
        if same:
            measure_names[measure_name] = same[0]
            result.reused[measure_name] = f"{dataset}.{same[0]}"
            continue
        new_name = measure_name if measure_name not in taken else f"{kpi_name}_{measure_name}"
        if new_name in taken:
            raise CatalogError(say("measure name '{measure}' is taken: pick another name",
                                   measure=new_name), "name")  # fmt: skip
        taken.add(new_name)
        measure_names[measure_name] = new_name
        result.new_measures.setdefault(dataset, {})[new_name] = written

    locale = project.locale
    kpi: dict[str, Any] = {
        "title": template.title(locale),
        "description": template.description(locale),
        "formula": rename(template.formula, measure_names),
        "unit": template.unit.value,
        "direction": template.direction.value,
        "grain": template.grain.value,
        "level": template.level.value,
        "function": template.function.value,
        "indicator": template.indicator.value,
    }
    if owner:
        kpi["owner"] = owner
    if goal:
        kpi["goal"] = goal
    dims = {d for dataset in role_to_dataset.values() for d in project.datasets[dataset].dimensions}
    breakdowns = [rename_columns[b] for b in template.breakdowns if rename_columns[b] in dims]
    if breakdowns:
        kpi["breakdowns"] = breakdowns
    result.kpi = kpi
    return result


def _datasets_of_roles(
    name: str, template: Template, project: Project, datasets: dict[str, str]
) -> dict[str, str]:
    roles = list(template.tables)
    if "" in datasets:
        if len(roles) > 1:
            raise CatalogError(
                say("{source} reads {count} tables ({roles}): say which dataset is which, "
                    "e.g. {example}", source=name, count=len(roles), roles=", ".join(roles),
                    example=" ".join(f"--dataset {r}=DATASET" for r in roles)),
                "datasets",
            )  # fmt: skip
        datasets = {roles[0]: datasets[""]}
    missing = [r for r in roles if r not in datasets]
    if missing:
        raise CatalogError(
            say("{source} needs a dataset for {roles}: {example}", source=name,
                roles=", ".join(missing),
                example=" ".join(f"--dataset {r}=DATASET" for r in missing)),
            "datasets",
        )  # fmt: skip
    extra = sorted(set(datasets) - set(roles))
    if extra:
        raise CatalogError(say("{source} has no table '{role}'; its tables: {roles}",
                               source=name, role=extra[0], roles=", ".join(roles)),
                           "datasets")  # fmt: skip
    for role, dataset in datasets.items():
        if dataset not in project.datasets:
            known = ", ".join(project.datasets) or "-"
            raise CatalogError(say("no dataset named '{dataset}' (datasets: {known})",
                                   dataset=dataset, known=known), "datasets")  # fmt: skip
        if project.datasets[dataset].time is None:
            raise CatalogError(
                say("dataset '{dataset}' has no `time:` column, which {source} needs for its "
                    "{role} rows", dataset=dataset, source=name, role=role),
                "datasets",
            )  # fmt: skip
    return datasets


def _measure_yaml(
    measure: Measure, columns: dict[str, str], datasets: dict[str, str]
) -> dict[str, Any]:
    raw: dict[str, Any] = measure.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    for key in ("expr", "where", "entity", "to_entity", "to_where"):
        if key in raw:
            raw[key] = rename(raw[key], columns)
    if "to" in raw:
        raw["to"] = datasets[raw["to"]]
    if measure.within is not None:
        raw["within"] = _duration_text(measure.within)
    return raw


def _duration_text(within: dt.timedelta) -> str:
    """A conversion window as the spec writes it (`30 days`), not JSON's `P30D`."""
    seconds = int(within.total_seconds())
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    raise CatalogError(f"a conversion window of {within} is not whole minutes")


def _same(a: Measure, b: Measure) -> bool:
    return a.model_dump(exclude={"description"}) == b.model_dump(exclude={"description"})


def write(loaded: LoadedProject, result: Plan, kpi_file: Path | None = None) -> list[Problem]:
    """Write the plan into the project's files. Returns the problems of the project as it
    would be; when there are errors nothing is changed."""
    assert loaded.project is not None
    edits: dict[Path, Any] = {}

    def tree(path: Path) -> Any:
        if path not in edits:
            edits[path] = load_rt(path) if path.exists() else CommentedMap()
        return edits[path]

    for dataset, measures in result.new_measures.items():
        entry = loaded.entries[("datasets", dataset)]
        node = section_of(tree(entry.file.path), entry.file.path, loaded.root, "datasets")[dataset]
        if node.get("measures") is None:
            node["measures"] = CommentedMap()
        for measure_name, definition in measures.items():
            node["measures"][measure_name] = flow(definition)

    target = kpi_file or _kpi_file(loaded)
    kpis = section_of(tree(target), target, loaded.root, "kpis")
    kpis[result.kpi_name] = _block(result.kpi)

    originals = {path: path.read_bytes() if path.exists() else None for path in edits}
    for path, data in edits.items():
        text = originals[path]
        out = StringIO()
        yaml_for(text.decode("utf-8") if text else "").dump(data, out)
        atomic_write(path, out.getvalue())
    after = load_project(loaded.root)
    errors = after.problems.errors
    if errors:
        for path, original in originals.items():
            if original is None:
                path.unlink()
            else:
                atomic_write(path, original.decode("utf-8"))
    return errors


def _kpi_file(loaded: LoadedProject) -> Path:
    """Where KPIs already live: the file holding most of them, else tolok.yaml."""
    counts: dict[Path, int] = {}
    for (section, _), entry in loaded.entries.items():
        if section == "kpis":
            counts[entry.file.path] = counts.get(entry.file.path, 0) + 1
    if counts:
        return max(counts, key=lambda p: counts[p])
    return loaded.root / "tolok.yaml"


def _block(values: dict[str, Any]) -> CommentedMap:
    """The KPI's keys one a line, each list in flow style (`breakdowns: [region]`)."""
    node = CommentedMap()
    for key, value in values.items():
        if isinstance(value, list):
            value = CommentedSeq(value)
            value.fa.set_flow_style()
        node[key] = value
    return node

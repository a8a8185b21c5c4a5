"""`tolok import dbt`: a dbt project's semantic layer (semantic models and metrics, as
MetricFlow reads them) as a tolok project over the tables the models build.

What maps (README, "Import from dbt"):

| dbt | tolok |
|---|---|
| semantic model over `ref('m')` | dataset over the table `SCHEMA.m` (the profile's schema) |
| `defaults.agg_time_dimension` (or the one time dimension) | `time` |
| categorical dimension (a column) | `dimensions` |
| primary entity | `key` |
| measure of every `agg` but a discrete percentile | the same `agg` (`average`: `avg`) |
| measure `expr`, metric `filter` (SQL, `Dimension(…)`) | `expr`, `where` (via sqlglot) |
| `non_additive_dimension` (max / min of the time) | `over_time: last` / `first` |
| simple metric | a KPI over the measure (a filtered measure when the metric filters) |
| ratio metric | `numerator / denominator` |
| derived metric, `offset_window` | its expression, `previous(x, n)` / `last_year(x)` |
| cumulative metric, `window` / `grain_to_date` | `rolling(x, n)` / `to_date(x, 'grain')` |
| conversion metric | a conversion measure (`entity`, `to`, `within`, `as`) |

Everything else is reported with the file and line it was written at, and why it has no
counterpart; nothing is guessed. The project written validates, or the import says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from tolok.importers.sql_expr import TranslationError, to_tolok, unjinja
from tolok.spec.problems import Text, say

AGGS = {"sum": "sum", "count": "count", "count_distinct": "count_distinct",
        "average": "avg", "avg": "avg", "min": "min", "max": "max", "median": "median",
        "percentile": "percentile", "sum_boolean": "sum_boolean"}  # fmt: skip
GRAINS = {"day": "day", "week": "week", "month": "month", "quarter": "quarter", "year": "year"}
_WINDOW = re.compile(r"^\s*(\d+)\s+(day|week|month|quarter|year)s?\s*$", re.IGNORECASE)
_UNITS = {"day": "days", "week": "weeks"}


@dataclass(frozen=True)
class Note:
    """What was mapped or left out, where it was written, and into what or why not."""

    what: Text
    where: str
    said: Text
    kpi: str | None = None  # the KPI a metric became
    differs: Text | None = None
    """How the KPI reads its data otherwise than MetricFlow does, where it does."""


class DbtError(ValueError):
    """The dbt project cannot be read at all (no dbt_project.yml, no warehouse)."""

    def __init__(self, said: Text) -> None:
        super().__init__(str(said))
        self.said = said


@dataclass
class Imported:
    settings: CommentedMap
    mapped: list[Note] = field(default_factory=list)
    skipped: list[Note] = field(default_factory=list)


@dataclass
class _Model:
    name: str
    where: str
    dataset: CommentedMap
    columns: dict[str, str]  # dimension or entity name → column
    time: str | None
    measures: dict[str, CommentedMap]
    entities: dict[str, str]  # entity name → column


def read_dbt(folder: Path, warehouse: str | None = None, profiles: Path | None = None) -> Imported:
    """The tolok project (as `tolok.yaml`'s mapping) for the dbt project in `folder`."""
    project_file = folder / "dbt_project.yml"
    if not project_file.exists():
        raise DbtError(
            say(
                "{folder} has no dbt_project.yml: give the dbt project's folder", folder=str(folder)
            )
        )
    yaml = YAML()
    config = yaml.load(project_file.read_text(encoding="utf-8")) or {}
    url, schema, dialect = _warehouse(folder, config, warehouse, profiles)
    out = Imported(CommentedMap())
    out.settings["name"] = str(config.get("name", folder.name))
    out.settings["warehouse"] = url
    out.settings["store"] = "sqlite:///tolok.db"
    documents = []
    for base in config.get("model-paths", ["models"]):
        for path in sorted((folder / base).rglob("*.y*ml")):
            if path.suffix in (".yml", ".yaml"):
                documents.append((path, yaml.load(path.read_text(encoding="utf-8")) or {}))
    models: dict[str, _Model] = {}
    measures: dict[str, str] = {}  # measure → its model
    for path, document in documents:
        for node in document.get("semantic_models", []) or []:
            model = _semantic_model(node, _at(folder, path, node), schema, dialect, out)
            if model is not None:
                models[model.name] = model
                measures.update(dict.fromkeys(model.measures, model.name))
    datasets = CommentedMap()
    for model in models.values():
        datasets[model.name] = model.dataset
    out.settings["datasets"] = datasets
    kpis = CommentedMap()
    context = _Metrics(models, measures, dialect, out, kpis, folder)
    for path, document in documents:
        for node in document.get("metrics", []) or []:
            context.metric(node, _at(folder, path, node))
    _without_missing_inputs(
        kpis, {m for model in models.values() for m in model.dataset["measures"]}, out
    )
    out.settings["kpis"] = kpis
    return out


def _without_missing_inputs(kpis: CommentedMap, measures: set[str], out: Imported) -> None:
    """KPIs built on a metric that was not imported are left out too, and said so."""
    from tolok.spec.formula import Name, parse_formula, walk

    changed = True
    while changed:
        changed = False
        for name in list(kpis):
            used = {
                (n.qualifier and n.name) or n.name
                for n in walk(parse_formula(kpis[name]["formula"]))
                if isinstance(n, Name)
            }
            missing = sorted(u for u in used if u not in kpis and u not in measures)
            if missing:
                note = next(n for n in out.mapped if n.kpi == name)
                out.mapped.remove(note)
                said = say("it reads {names}, which was not imported", names=", ".join(missing))
                out.skipped.append(Note(note.what, note.where, said))
                del kpis[name]
                changed = True


def _at(folder: Path, path: Path, node: Any) -> str:
    line = node.lc.line + 1 if hasattr(node, "lc") else 0
    return f"{path.relative_to(folder).as_posix()}:{line}"


def _warehouse(
    folder: Path, config: Any, given: str | None, profiles: Path | None
) -> tuple[str, str, str]:
    """The warehouse URL, the schema the models are built in, and the SQL dialect: from
    the dbt profile's target when it is DuckDB or PostgreSQL, else `given`."""
    profile = _profile(folder, str(config.get("profile", "")), profiles)
    target: dict[str, Any] = {}
    if profile is not None:
        outputs = profile.get("outputs", {})
        target = outputs.get(profile.get("target", "dev"), {}) or {}
    kind = str(target.get("type", ""))
    if kind == "duckdb":
        path = Path(str(target.get("path", "dbt.duckdb")))
        path = path if path.is_absolute() else (folder / path).resolve()
        url = given or f"duckdb:///{path.as_posix()}"
        return url, str(target.get("schema", "main")), "duckdb"
    if kind in ("postgres", "postgresql"):
        user, host = target.get("user", "postgres"), target.get("host", "localhost")
        port, database = target.get("port", 5432), target.get("dbname", target.get("database"))
        url = given or f"postgresql://{user}@{host}:{port}/{database}"
        return url, str(target.get("schema", "public")), "postgres"
    if given is None:
        raise DbtError(
            say(
                "the dbt profile's target is {kind}: tolok reads DuckDB and PostgreSQL "
                "profiles; give the warehouse with --warehouse URL",
                kind=kind or "-",
            )
        )
    dialect = given.split("://", 1)[0].replace("postgresql", "postgres")
    return given, str(target.get("schema", "public")), dialect


def _profile(folder: Path, name: str, given: Path | None) -> Any:
    for place in (given, folder, Path.home() / ".dbt"):
        if place is not None and (place / "profiles.yml").exists():
            profiles = YAML(typ="safe").load((place / "profiles.yml").read_text(encoding="utf-8"))
            return (profiles or {}).get(name)
    return None


def _semantic_model(
    node: Any, where: str, schema: str, dialect: str, out: Imported
) -> _Model | None:
    name = str(node.get("name"))
    found = re.fullmatch(r"\s*ref\(\s*['\"]([^'\"]+)['\"]\s*\)\s*", str(node.get("model", "")))
    if found is None:
        out.skipped.append(
            Note(say("semantic model {name}", name=name), where, say("its model is not ref('…')"))
        )
        return None
    dataset = CommentedMap()
    dataset["source"] = f"{schema}.{found.group(1)}"
    columns: dict[str, str] = {}
    entities: dict[str, str] = {}
    for entity in node.get("entities", []) or []:
        column = str(entity.get("expr") or entity.get("name"))
        entities[str(entity["name"])] = column
        columns[str(entity["name"])] = column
        if entity.get("type") == "primary" and _is_column(column):
            dataset["key"] = [column]
    times: dict[str, str] = {}
    dimensions = []
    for dim in node.get("dimensions", []) or []:
        dim_name, expr = str(dim["name"]), dim.get("expr")
        column = str(expr) if expr is not None else dim_name
        place = _at_node(where, dim)
        if not _is_column(column):
            said = say(
                "its expr '{expr}' is computed: tolok reads dimensions as columns (add the "
                "column to the dbt model)",
                expr=str(expr),
            )
            out.skipped.append(
                Note(say("dimension {name}", name=f"{name}.{dim_name}"), place, said)
            )
            continue
        columns[dim_name] = column
        if dim.get("type") == "time":
            times[dim_name] = column
        else:
            dimensions.append(column)
    defaults = node.get("defaults") or {}
    time_name = defaults.get("agg_time_dimension") or (next(iter(times)) if times else None)
    time = times.get(str(time_name)) if time_name else None
    if time is not None:
        dataset["time"] = time
    if dimensions:
        dataset["dimensions"] = dimensions
    model = _Model(name, where, dataset, columns, time, {}, entities)
    kept = say("dataset {name}", name=name)
    out.mapped.append(Note(say("semantic model {name}", name=name), where, kept))
    measures = CommentedMap()
    for measure in node.get("measures", []) or []:
        mapped = _measure(model, measure, _at_node(where, measure), dialect, out)
        if mapped is not None:
            measures[str(measure["name"])] = mapped
            model.measures[str(measure["name"])] = mapped
    dataset["measures"] = measures
    return model


def _at_node(where: str, node: Any) -> str:
    file = where.rsplit(":", 1)[0]
    return f"{file}:{node.lc.line + 1}" if hasattr(node, "lc") else where


def _is_column(text: str) -> bool:
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text.strip()) is not None


def _measure(
    model: _Model, node: Any, where: str, dialect: str, out: Imported
) -> CommentedMap | None:
    name, agg = str(node["name"]), str(node.get("agg", ""))
    what = say("measure {name}", name=f"{model.name}.{name}")
    if agg not in AGGS:
        out.skipped.append(Note(what, where, say("agg '{agg}' has no counterpart", agg=agg)))
        return None
    own_time = node.get("agg_time_dimension")
    if own_time and model.columns.get(str(own_time)) != model.time:
        said = say(
            "its time ({name}) is not the model's: a tolok dataset has one time column",
            name=str(own_time),
        )
        out.skipped.append(Note(what, where, said))
        return None
    measure = CommentedMap()
    measure["agg"] = AGGS[agg]
    expr = node.get("expr")
    try:
        if agg == "percentile":
            params = node.get("agg_params") or {}
            if params.get("use_discrete_percentile") or params.get("percentile") is None:
                raise TranslationError(say("a discrete percentile, or none given"))
            measure["p"] = float(params["percentile"])
        if expr is not None and not (agg == "count" and str(expr).strip() == "1"):
            measure["expr"] = to_tolok(str(expr), dialect, model.columns)
        elif agg != "count":
            measure["expr"] = name
        additive = node.get("non_additive_dimension")
        if additive:
            if model.columns.get(str(additive.get("name"))) != model.time:
                raise TranslationError(say("non_additive_dimension is not the model's time"))
            if additive.get("window_groupings"):
                groups = [model.entities.get(str(g), str(g)) for g in additive["window_groupings"]]
                model.dataset["key"] = groups
            choice = str(additive.get("window_choice", "max"))
            measure["over_time"] = "last" if choice == "max" else "first"
    except TranslationError as exc:
        out.skipped.append(Note(what, where, exc.said))
        return None
    out.mapped.append(
        Note(what, where, say("measure {name} ({agg})", name=name, agg=measure["agg"]))
    )
    return measure


@dataclass
class _Metrics:
    models: dict[str, _Model]
    measures: dict[str, str]
    dialect: str
    out: Imported
    kpis: CommentedMap
    folder: Path
    differs: dict[str, Text] = field(default_factory=dict)

    def metric(self, node: Any, where: str) -> None:
        name, kind = str(node.get("name")), str(node.get("type", "")).lower()
        params = node.get("type_params") or {}
        try:
            formula, grain = self._formula(name, kind, params, node.get("filter"))
        except TranslationError as exc:
            self.out.skipped.append(Note(say("metric {name}", name=name), where, exc.said))
            return
        kpi = CommentedMap()
        kpi["title"] = str(node.get("label") or name)
        if node.get("description"):
            kpi["description"] = " ".join(str(node["description"]).split())
        kpi["formula"] = formula
        kpi["grain"] = grain
        self.kpis[name] = kpi
        self.out.mapped.append(
            Note(
                say("metric {name} ({kind})", name=name, kind=kind),
                where,
                say("KPI {name}: {formula}", name=name, formula=formula),
                name,
                self.differs.get(name),
            )
        )

    def _formula(self, name: str, kind: str, params: Any, filters: Any) -> tuple[str, str]:
        if kind == "simple":
            return self._measure_of(name, params.get("measure"), filters), "month"
        if filters:
            raise TranslationError(
                say("a filter on a {kind} metric: filter its input metrics instead", kind=kind)
            )
        if kind == "ratio":
            numerator = self._input(name, params.get("numerator"), "num")
            denominator = self._input(name, params.get("denominator"), "den")
            return f"{numerator} / {denominator}", "month"
        if kind == "derived":
            return self._derived(name, params), "month"
        if kind == "cumulative":
            return self._cumulative(name, params)
        if kind == "conversion":
            return self._conversion(name, params), "month"
        raise TranslationError(say("metric type '{kind}' has no counterpart", kind=kind))

    def _measure_of(self, name: str, given: Any, filters: Any) -> str:
        measure = str(given.get("name") if isinstance(given, dict) else given)
        if measure not in self.measures:
            raise TranslationError(say("measure '{name}' was not imported", name=measure))
        model = self.models[self.measures[measure]]
        wanted = _listed(filters)
        if isinstance(given, dict):
            wanted += _listed(given.get("filter"))
        qualified = f"{model.name}.{measure}" if self._ambiguous(measure) else measure
        if not wanted:
            return qualified
        conditions = [to_tolok(unjinja(str(f), model.columns), self.dialect) for f in wanted]
        copy = CommentedMap(model.measures[measure])
        old = copy.get("where")
        copy["where"] = " and ".join(f"({c})" for c in [*([old] if old else []), *conditions])
        filtered = name if name not in model.dataset["measures"] else f"{name}_filtered"
        model.dataset["measures"][filtered] = copy
        return f"{model.name}.{filtered}" if self._ambiguous(filtered) else filtered

    def _ambiguous(self, measure: str) -> bool:
        return sum(measure in m.dataset["measures"] for m in self.models.values()) > 1

    def _input(self, name: str, given: Any, role: str) -> str:
        if isinstance(given, dict):
            if given.get("filter") or given.get("offset_window") or given.get("offset_to_grain"):
                raise TranslationError(
                    say("an input of {name} ({input}) is filtered or offset", name=name, input=role)
                )
            given = given.get("name")
        return self._kpi_name(str(given))

    def _kpi_name(self, metric: str) -> str:
        if not metric.isidentifier():
            raise TranslationError(
                say("'{name}' is not a name tolok's formulas can use", name=metric)
            )
        return metric

    def _derived(self, name: str, params: Any) -> str:
        import sqlglot
        import sqlglot.expressions as exp

        terms: dict[str, str] = {}
        for entry in params.get("metrics", []) or []:
            metric = str(entry.get("name"))
            alias = str(entry.get("alias") or metric)
            term = self._kpi_name(metric)
            if entry.get("filter"):
                raise TranslationError(
                    say(
                        "an input of {name} ({input}) is filtered or offset",
                        name=name,
                        input=metric,
                    )
                )
            if entry.get("offset_to_grain"):
                raise TranslationError(
                    say("offset_to_grain of {name}: use a to_date KPI", name=metric)
                )
            window = entry.get("offset_window")
            if window:
                count, grain = _window(str(window))
                if grain == "year" or (grain == "month" and count == 12):
                    term = f"last_year({term})"
                elif grain == "month":
                    term = f"previous({term}, {count})"
                else:
                    raise TranslationError(
                        say("offset_window '{window}' at month grain", window=str(window))
                    )
            terms[alias] = term
        expression = str(params.get("expr", ""))
        tree = sqlglot.parse_one(expression, read=self.dialect)
        for column in list(tree.find_all(exp.Column)):
            if column.name not in terms:
                raise TranslationError(
                    say("'{term}' in {name}'s expr is not one of its metrics",
                        term=column.name, name=name)
                )  # fmt: skip
        held = {alias: f"tolokterm{n}" for n, alias in enumerate(terms)}  # kept from quoting
        said = to_tolok(expression, self.dialect, held)
        for alias, term in terms.items():
            said = re.sub(rf"\b{held[alias]}\b", term, said)
        return said

    def _cumulative(self, name: str, params: Any) -> tuple[str, str]:
        extra = params.get("cumulative_type_params") or {}
        window = extra.get("window") or params.get("window")
        to_grain = extra.get("grain_to_date") or params.get("grain_to_date")
        if extra.get("period_agg") not in (None, "first", "last"):
            raise TranslationError(
                say(
                    "period_agg '{value}': tolok reads a window's sum, first or last",
                    value=str(extra["period_agg"]),
                )
            )
        measure = self._measure_of(name + "_measure", params.get("measure"), None)
        if window:
            count, grain = _window(str(window))
            self.differs[name] = say(
                "the {n} whole periods up to each one; MetricFlow sums the window back from "
                "one day of the period (its first, by default)",
                n=count,
            )
            return f"rolling({measure}, {count})", grain
        if to_grain:
            grain = str(to_grain).lower()
            if grain not in ("week", "month", "quarter", "year"):
                raise TranslationError(
                    say(
                        "grain_to_date '{value}': to date means by week, month, quarter or year",
                        value=str(to_grain),
                    )
                )
            return f"to_date({measure}, '{grain}')", "day" if grain in (
                "week",
                "month",
            ) else "month"
        raise TranslationError(say("a cumulative metric over all time: tolok sums over a window"))

    def _conversion(self, name: str, params: Any) -> str:
        extra = params.get("conversion_type_params") or {}
        if extra.get("constant_properties"):
            raise TranslationError(
                say("constant_properties: a tolok conversion matches on the entity alone")
            )
        base = str((extra.get("base_measure") or {}).get("name", extra.get("base_measure")))
        later = str(
            (extra.get("conversion_measure") or {}).get("name", extra.get("conversion_measure"))
        )
        if base not in self.measures or later not in self.measures:
            raise TranslationError(say("its base or conversion measure was not imported"))
        first, then = self.models[self.measures[base]], self.models[self.measures[later]]
        entity = str(extra.get("entity"))
        if entity not in first.entities or entity not in then.entities:
            raise TranslationError(
                say("entity '{name}' is not in both semantic models", name=entity)
            )
        count, unit = _window(str(extra.get("window", "")))
        if unit not in _UNITS:
            raise TranslationError(
                say(
                    "window '{window}': tolok counts days or weeks", window=str(extra.get("window"))
                )
            )
        measure = CommentedMap()
        measure["agg"] = "conversion"
        measure["entity"] = first.entities[entity]
        measure["to"] = then.name
        if then.entities[entity] != first.entities[entity]:
            measure["to_entity"] = then.entities[entity]
        where = then.measures[later].get("where")
        if where:
            measure["to_where"] = where
        measure["within"] = f"{count} {_UNITS[unit]}"
        calculation = str(extra.get("calculation", "conversion_rate"))
        measure["as"] = "rate" if calculation == "conversion_rate" else "count"
        self.differs[name] = say(
            "every first event with a later one in the window counts, in its own period; "
            "MetricFlow credits a conversion to the last first event before it only"
        )
        base_where = first.measures[base].get("where")
        if base_where:
            measure["where"] = base_where
        first.dataset["measures"][name] = measure
        return name


def _listed(filters: Any) -> list[str]:
    if filters is None:
        return []
    return [str(f) for f in filters] if isinstance(filters, list) else [str(filters)]


def _window(text: str) -> tuple[int, str]:
    found = _WINDOW.match(text)
    if found is None:
        raise TranslationError(
            say("window '{window}' is not N days, weeks, months, quarters or years", window=text)
        )
    return int(found.group(1)), GRAINS[found.group(2).lower()]


def write(imported: Imported, to: Path) -> Path:
    """`tolok.yaml` in `to` (made if need be); an existing one is never overwritten."""
    to.mkdir(parents=True, exist_ok=True)
    target = to / "tolok.yaml"
    if target.exists():
        raise DbtError(say("{path} exists: import into a new folder (--to DIR)", path=str(target)))
    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)
    with target.open("w", encoding="utf-8") as handle:
        handle.write("# Imported from a dbt project by `tolok import dbt`: add targets, owners\n")
        handle.write("# and goals, which dbt does not have.\n")
        yaml.dump(imported.settings, handle)
    return target

"""Loading a project folder: every file read, every problem reported in one run.

A project is `tolok.yaml` plus optional `kpis/*.yaml` and `goals/*.yaml`, each of which
holds a mapping of names to definitions (optionally under a top-level `kpis:` or `goals:`
key). Entries are validated one by one so that one broken KPI never hides another.
"""

from __future__ import annotations

import difflib
import keyword
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml.comments import CommentedMap

from tolok.spec.base import SaidError
from tolok.spec.check import check_project
from tolok.spec.loaded import EntrySource, LoadedProject
from tolok.spec.models import SECTIONS, BlameError, Dataset, Measure, Project, Settings, Spec
from tolok.spec.problems import Location, Problems, Text, say
from tolok.spec.schema_walk import model_at
from tolok.spec.source import MAX_VALUES, PathPart, SourceFile, locate, plain, read_yaml

PROJECT_FILE = "tolok.yaml"
MAX_DEFINITIONS = 5_000
"""Definitions of one kind (KPIs, datasets, goals…) a project may hold: with the 5 MB a
file may hold (`source.MAX_FILE_BYTES`), what keeps `tolok validate` to seconds."""
FOLDER_SECTIONS = ("kpis", "goals")
_PLURALS = {
    "datasets": say("datasets"),
    "goals": say("goals"),
    "kpis": say("KPIs"),
    "channels": say("channels"),
    "alerts": say("alert rules"),
    "schedules": say("schedules"),
}
_NOUNS = {
    "datasets": say("dataset"),
    "goals": say("goal"),
    "kpis": say("KPI"),
    "channels": say("channel"),
    "alerts": say("alert rule"),
    "schedules": say("schedule"),
}


def load_project(path: Path, overlay: Mapping[Path, str] | None = None) -> LoadedProject:
    """Read and check a project; problems are collected, never raised.

    `overlay` holds texts of project files as they would be (absolute paths): each is read
    instead of the file on disk, and a new `kpis/` or `goals/` file counts as one there.
    That is how a change is validated whole before anything is written (`spec.edit`)."""
    path = path.resolve()
    main = path if path.is_file() else path / PROJECT_FILE
    root = main.parent
    loaded = LoadedProject(root, None, Problems())
    if not main.exists():
        loaded.problems.add(
            "TLK007",
            say("no {file} in {folder}", file=PROJECT_FILE, folder=str(root)),
            Location(main, 1, 1),
            say("run tolok in a project folder, or pass its path: tolok validate path/to/project"),
        )
        return loaded
    settings = _read_main(loaded, main, overlay)
    for section in FOLDER_SECTIONS:
        files = [*(root / section).glob("*.yaml"), *(root / section).glob("*.yml")]
        if overlay:
            files += [f for f in overlay if f.parent == root / section and f not in files]
            files = [f for f in files if f.suffix in (".yaml", ".yml")]
        for file in sorted(files):
            _read_section_file(loaded, file, section, overlay)
    models = {section: _validate_entries(loaded, section) for section in SECTIONS}
    if settings is not None:
        loaded.project = Project(**dict(settings), **models)
        check_project(loaded)
        if any(d.sql is not None for d in loaded.project.datasets.values()):
            from tolok.spec.queries import check_queries  # sqlglot: only for queries

            check_queries(loaded)
    return loaded


def _read(
    loaded: LoadedProject, file: Path, overlay: Mapping[Path, str] | None
) -> SourceFile | None:
    if overlay is None or file not in overlay:
        return read_yaml(file, loaded.problems, _room(loaded))
    return _read_text(loaded, file, overlay[file])


def _read_text(loaded: LoadedProject, file: Path, text: str) -> SourceFile | None:
    """`text` read as if it were `file`: through a file of its own, so that every limit of
    `read_yaml` holds, then placed back at `file`, problems included."""
    import tempfile  # only when validating a change: not for every load

    first = len(loaded.problems.items)
    with tempfile.TemporaryDirectory(prefix="tolok-overlay-") as folder:
        written = Path(folder) / file.name
        written.write_text(text, encoding="utf-8")
        source = read_yaml(written, loaded.problems, _room(loaded))
    items = loaded.problems.items
    for index in range(first, len(items)):
        if items[index].where.file == written:
            items[index] = replace(items[index], where=replace(items[index].where, file=file))
    return None if source is None else replace(source, path=file)


def _read_main(
    loaded: LoadedProject, main: Path, overlay: Mapping[Path, str] | None = None
) -> Spec | None:
    source = _read(loaded, main, overlay)
    if source is None:
        return None
    loaded.files[main] = source
    data = source.data
    if data is None:
        if not loaded.problems.items:
            loaded.problems.add(
                "TLK003",
                say("{file} is empty", file=PROJECT_FILE),
                Location(main, 1, 1),
                say("start with `name: …`"),
            )
        return None
    if not isinstance(data, CommentedMap):
        loaded.problems.add(
            "TLK004",
            say("{file} must be a mapping of keys to values", file=PROJECT_FILE),
            Location(main, 1, 1),
            say("start with `name: My Project`"),
        )
        return None
    for section in SECTIONS:
        value = data.get(section)
        if value is None:
            continue
        if not isinstance(value, CommentedMap):
            where = locate(source, data, (section,))
            loaded.problems.add(
                "TLK004",
                say("`{key}` must be a mapping of names to definitions", key=section),
                where,
            )
            continue
        _register_all(loaded, section, source, value)
    top = {k: v for k, v in data.items() if k not in SECTIONS}
    return _validate(loaded, Settings, top, source, data, ()) or _usable_settings(top)


def _room(loaded: LoadedProject) -> int:
    """The values (aliases expanded) the files read so far leave to the next one: a
    thousand files of a million values each are as much a bomb as one of a billion."""
    return MAX_VALUES - sum(source.values for source in loaded.files.values())


def _usable_settings(top: dict[str, Any]) -> Settings:
    """Settings with the broken keys dropped, so that the rest of the project still gets
    checked (the broken keys are already reported)."""
    values = plain(top)
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        bad = {error["loc"][0] for error in exc.errors() if error["loc"]}
    kept = {k: v for k, v in values.items() if k not in bad and k in Settings.model_fields}
    return Settings.model_validate({"name": "?", **kept})


def _read_section_file(
    loaded: LoadedProject, file: Path, section: str, overlay: Mapping[Path, str] | None = None
) -> None:
    source = _read(loaded, file, overlay)
    if source is None:
        return
    loaded.files[file] = source
    data = source.data
    if data is None:
        return
    if isinstance(data, CommentedMap) and list(data) == [section]:
        data = data[section]
    if not isinstance(data, CommentedMap):
        loaded.problems.add(
            "TLK004",
            say(
                "a file in {folder}/ must be a mapping of {noun} names to definitions",
                folder=section,
                noun=_NOUNS[section],
            ),
            Location(file, 1, 1),
        )
        return
    _register_all(loaded, section, source, data)


def _register_all(
    loaded: LoadedProject, section: str, source: SourceFile, parent: CommentedMap
) -> None:
    """Every definition of a mapping, up to `MAX_DEFINITIONS` of a kind in the project."""
    held = sum(1 for kind, _ in loaded.entries if kind == section)
    for name in parent:
        if held >= MAX_DEFINITIONS:
            line, col = parent.lc.key(name)
            loaded.problems.add(
                "TLK001",
                say(
                    "more than {n} {things} in the project, the most tolok reads",
                    n=MAX_DEFINITIONS,
                    things=_PLURALS[section],
                ),
                Location(source.path, line + 1, col + 1, len(str(name))),
                say("keep the ones people look at; the rest are not read"),
            )
            return
        _register(loaded, section, str(name), source, parent)
        held += 1


def _register(
    loaded: LoadedProject, section: str, name: str, source: SourceFile, parent: CommentedMap
) -> None:
    line, col = parent.lc.key(name)
    where = Location(source.path, line + 1, col + 1, len(name))
    noun = _NOUNS[section]
    previous = loaded.entries.get((section, name))
    if previous is not None:
        first = previous.key
        place = f"{_relative(first.file, loaded.root)}:{first.line}:{first.col}"
        loaded.problems.add(
            "TLK005",
            say(
                "duplicate {noun} '{name}': also defined at {place}",
                noun=noun,
                name=name,
                place=place,
            ),
            where,
            say("rename one of them; {noun} names are unique across the whole project", noun=noun),
        )
        return
    bad = _name_problem(section, name)
    if bad:
        loaded.problems.add(
            "TLK006",
            say("'{name}' cannot be used as a {noun} name", name=name, noun=noun),
            where,
            bad,
        )
    loaded.entries[(section, name)] = EntrySource(source, parent[name], where)


def _name_problem(section: str, name: str) -> Text | None:
    if section not in ("datasets", "kpis"):  # names never written in a formula
        ok = name.replace("-", "_").isidentifier() and not name.startswith("_")
        return None if ok else say("use letters, digits, '-' and '_', starting with a letter")
    if name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("__"):
        return None
    fixed = "".join(c if c.isalnum() else "_" for c in name).strip("_") or "name"
    if fixed[0].isdigit() or keyword.iskeyword(fixed):
        fixed = "_" + fixed
    return say(
        "names in formulas use letters, digits and '_', starting with a letter: {name}", name=fixed
    )


def _validate_entries(loaded: LoadedProject, section: str) -> dict[str, Any]:
    model = SECTIONS[section]
    valid: dict[str, Any] = {}
    for (kind, name), entry in loaded.entries.items():
        if kind != section:
            continue
        if not isinstance(entry.node, CommentedMap):
            loaded.problems.add(
                "TLK004",
                say(
                    "{noun} '{name}' must be a mapping of keys to values",
                    noun=_NOUNS[section],
                    name=name,
                ),
                entry.key,
                say("indent its keys below the name"),
            )
            loaded.broken.add(name)
            continue
        if model is Dataset:
            result = _validate_dataset(loaded, entry)
        else:
            result = _validate(loaded, model, entry.node, entry.file, entry.node, (), entry.key)
        if result is None:
            loaded.broken.add(name)
        else:
            valid[name] = result
    return valid


def _validate_dataset(loaded: LoadedProject, entry: EntrySource) -> Spec | None:
    """Measures are validated one by one: a broken measure leaves its siblings usable."""
    node = entry.node
    measures = node.get("measures")
    if not isinstance(measures, CommentedMap):
        return _validate(loaded, Dataset, node, entry.file, node, (), entry.key)
    good: dict[str, Any] = {}
    for measure in measures:
        result = _validate(
            loaded, Measure, measures[measure], entry.file, node, ("measures", measure)
        )
        if result is None:
            loaded.broken.add(str(measure))
        else:
            good[str(measure)] = result
    rest = {k: v for k, v in node.items() if k != "measures"}
    dataset = _validate(loaded, Dataset, rest, entry.file, node, (), entry.key)
    if dataset is None:
        return None
    if isinstance(dataset, Dataset) and dataset.is_lookup and measures:
        loaded.problems.add(
            "TLK004",
            say(
                "a dataset with measures read from a file or table needs `time`, its date "
                "column, or `time: none` for a table that holds the current state"
            ),
            locate(entry.file, node, ("source",)),
            say("a lookup that other datasets refer to (refs) has no measures"),
        )
        return None
    return dataset.model_copy(update={"measures": good})


def _validate(
    loaded: LoadedProject,
    model: type[Spec],
    data: Any,
    source: SourceFile,
    node: Any,
    prefix: tuple[PathPart, ...],
    owner: Location | None = None,
) -> Spec | None:
    """Validate `data` against `model`; report every error at its place in the file."""
    values = plain(data)
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        errors = exc.errors()
        for error in errors:
            if not _explained_by_typo(error, errors):
                _report(loaded, model, error, source, node, prefix, owner)
        return None


def _report(
    loaded: LoadedProject,
    model: type[BaseModel],
    error: Any,
    source: SourceFile,
    node: Any,
    prefix: tuple[PathPart, ...],
    owner: Location | None,
) -> None:
    loc: tuple[PathPart, ...] = tuple(error["loc"])
    kind = error["type"]
    field_name = next((str(p) for p in reversed(loc) if isinstance(p, str)), "")
    if kind == "extra_forbidden":
        where = locate(source, node, prefix + loc, key=True)
        parent = model_at(model, loc[:-1])
        valid = sorted(_keys(parent)) if parent else []
        close = difflib.get_close_matches(field_name, valid, n=1, cutoff=0.6)
        hint = (
            say("did you mean '{name}'?", name=close[0])
            if close
            else say("valid keys: {keys}", keys=", ".join(valid))
        )
        if ")" in field_name:  # the rest of a formula that a comma cut in a {…} mapping
            hint = say(
                'this is the end of a formula cut at a comma: quote the formula, "ratio(a, b)"'
            )
        loaded.problems.add("TLK002", say("unknown key '{key}'", key=field_name), where, hint)
        return
    if kind == "missing":
        where = locate(source, node, prefix + loc[:-1], key=True)
        if len(loc) == 1 and owner is not None:
            where = owner
        loaded.problems.add(
            "TLK003",
            say("missing required key '{key}'", key=field_name),
            where,
            say("add `{key}: …`", key=field_name),
        )
        return
    blame = error.get("ctx", {}).get("error")
    if isinstance(blame, BlameError):
        loc = (*loc, blame.key)
    where = locate(source, node, prefix + loc)
    if not loc and owner is not None:
        where = owner
    message, advice = _describe(kind, error, field_name)
    loaded.problems.add("TLK004", message, where, advice)


def _explained_by_typo(error: Any, errors: list[Any]) -> bool:
    """A missing key next to an unknown key that looks like it (`formular`) is one typo:
    report the unknown key with its suggestion, not a second error."""
    if error["type"] != "missing":
        return False
    parent, wanted = tuple(error["loc"][:-1]), str(error["loc"][-1])
    typos = [
        str(e["loc"][-1])
        for e in errors
        if e["type"] == "extra_forbidden" and tuple(e["loc"][:-1]) == parent
    ]
    return bool(difflib.get_close_matches(wanted, typos, n=1, cutoff=0.6))


def _describe(kind: str, error: Any, field_name: str) -> tuple[Text, Text | None]:
    """A pydantic error (its type: `enum`, `int_parsing`, a validator's `value_error` …) as
    a sentence to translate; an error type not known here keeps pydantic's English."""
    value = error.get("input")
    label = Text.plain(f"`{field_name}`") if field_name else say("value")
    ctx = error.get("ctx", {})
    if kind == "enum":
        expected = ctx.get("expected", "")
        choices = [c.strip(" '") for c in expected.replace(" or ", ", ").split(",")]
        close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.5)
        hint = (
            say(
                "did you mean '{name}'? use one of: {choices}",
                name=close[0],
                choices=", ".join(choices),
            )
            if close
            else say("use one of: {choices}", choices=", ".join(choices))
        )
        return say("'{value}' is not a valid {key}", value=value, key=field_name), hint
    if kind == "value_error":
        blame = ctx.get("error")
        if isinstance(blame, SaidError):
            return blame.text, blame.hint
        return Text.plain(str(error["msg"]).removeprefix("Value error, ")), None
    friendly = _FRIENDLY.get(kind)
    if friendly is not None:
        sentence, advice = friendly
        limit = next((str(ctx[k]) for k in ("gt", "ge", "lt", "le") if k in ctx), "")
        return sentence.filled(label=label, value=value, key=field_name, limit=limit), advice
    said = str(error["msg"])
    return say("{label}: {message}", label=label, message=said[:1].lower() + said[1:]), None


_FRIENDLY: dict[str, tuple[Text, Text | None]] = {
    "dict_type": (say("{label} must be a mapping of keys to values"), None),
    "model_type": (say("{label} must be a mapping of keys to values"), None),
    "list_type": (say("{label} must be a list, e.g. [a, b]"), None),
    "string_type": (say("{label} must be text"), say("put the value in quotes")),
    "float_parsing": (say("{label} must be a number, not '{value}'"), None),
    "float_type": (say("{label} must be a number"), None),
    "int_parsing": (say("{label} must be a whole number, not '{value}'"), None),
    "bool_parsing": (say("{label} must be true or false, not '{value}'"), None),
    "bool_type": (say("{label} must be true or false"), None),
    "string_pattern_mismatch": (say("'{value}' is not a valid {key}"), None),
    "greater_than": (say("{label}: input should be greater than {limit}"), None),
    "greater_than_equal": (say("{label}: input should be greater than or equal to {limit}"), None),
    "less_than": (say("{label}: input should be less than {limit}"), None),
    "less_than_equal": (say("{label}: input should be less than or equal to {limit}"), None),
}
"""Pydantic's error types as sentences: `{label}` the key (`` `grain` ``, else "value"),
`{key}` its name, `{value}` as written, `{limit}` a bound. Other types keep pydantic's
English after the label."""


def _keys(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()

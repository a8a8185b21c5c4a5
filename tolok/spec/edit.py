"""Changing definitions by writing the project's YAML: the one writer of `tolok catalog add`,
the definitions API and the browser's builder.

The YAML stays the truth. A change (`Change`) is made in ruamel's round-trip tree of the file
that holds the definition, only the keys whose values changed are replaced, and the file's
text is then spliced: every line the change did not touch is kept byte for byte (comments,
quoting, spacing, flow or block style, indentation), the touched lines are ruamel's. Before
anything is written the whole project is loaded again with the new texts (`load_project`'s
`overlay`): a change that would not validate writes nothing and says where, in the new text.
A file that changed on disk since its fingerprint was taken is not written either: the
conflict carries both versions. Files are written atomically, all of them or none.

Knows nothing of the store, of people or of HTTP: who changed what is the caller's to record.

>>> change = Change("kpis", "cac", {"formula": "spend / new_buyers"}, merge=True)
>>> change.section, change.merge
('kpis', True)
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import os
import re
import stat
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from io import StringIO
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)
from ruamel.yaml.tokens import CommentToken

from tolok.spec.loaded import LoadedProject
from tolok.spec.loader import FOLDER_SECTIONS, PROJECT_FILE, load_project
from tolok.spec.models import Function
from tolok.spec.problems import Problem
from tolok.spec.source import PathPart, plain

EDITABLE = ("datasets", "goals", "kpis", "alerts", "schedules")
"""The sections a change may touch: what the builder builds. Alert rules and schedules
live in tolok.yaml only (as mappings of names to definitions, as the loader reads them)."""
MAIN_ONLY = frozenset({"alerts", "schedules"})
_STYLED = (
    SingleQuotedScalarString,
    DoubleQuotedScalarString,
    LiteralScalarString,
    FoldedScalarString,
)
_WRITING = threading.Lock()
_AMBIGUOUS = re.compile(r"^(\d{1,2}:\d{2}(:\d{2})?|:\d{2}|(?i:y|n|yes|no|on|off))$")
"""Texts a YAML 1.1 reader (PyYAML, many editors' tools) takes for a number of minutes or a
boolean when unquoted: written in double quotes, as a person writes `at: "08:00"`."""


@dataclass(frozen=True)
class Change:
    """A definition as it should be: `definition` None deletes it; with `merge` only the
    keys given are set (a None value removes its key), the others stay as written; with
    `new` the name must not be taken yet."""

    section: str
    name: str
    definition: Mapping[str, Any] | None
    merge: bool = False
    new: bool = False


@dataclass(frozen=True)
class Located:
    """A problem of the changed project, with the JSON path of what it is about
    (`("kpis", "cac", "formula")`) and its file relative to the project."""

    problem: Problem
    file: str
    path: tuple[PathPart, ...]


class EditError(Exception):
    """A change that cannot be made; nothing was written."""


class MissingError(EditError):
    def __init__(self, section: str, name: str) -> None:
        super().__init__(f"no {section} entry named '{name}'")
        self.section, self.name = section, name


class TakenError(EditError):
    def __init__(self, section: str, name: str, file: str) -> None:
        super().__init__(f"'{name}' is already defined in {file}")
        self.section, self.name, self.file = section, name, file


class InvalidError(EditError):
    """The project would not validate: its errors, located in the new texts."""

    def __init__(self, problems: list[Located]) -> None:
        super().__init__("; ".join(f"{p.problem.code} {p.problem.message}" for p in problems))
        self.problems = problems


class ConflictError(EditError):
    """A file changed on disk since the change was asked for: both versions."""

    def __init__(self, file: str, current: str | None, proposed: str) -> None:
        super().__init__(f"{file} changed on disk since it was read")
        self.file, self.current, self.proposed = file, current, proposed


@dataclass(frozen=True)
class Draft:
    """A validated change, not written yet: the new text of each file it touches."""

    root: Path
    before: LoadedProject
    after: LoadedProject
    texts: dict[Path, str]
    originals: dict[Path, bytes | None]

    def diffs(self) -> dict[str, str]:
        """Per file (relative path), the unified diff of the change."""
        out = {}
        for path, text in self.texts.items():
            old = self.originals[path]
            name = relative(path, self.root)
            before = old.decode("utf-8").splitlines(keepends=True) if old else []
            lines = difflib.unified_diff(before, text.splitlines(keepends=True),
                                         f"a/{name}", f"b/{name}")  # fmt: skip
            out[name] = "".join(lines)
        return out


@dataclass(frozen=True)
class Written:
    diffs: dict[str, str]
    fingerprints: dict[str, str]


def digest(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def fingerprints(loaded: LoadedProject) -> dict[str, str]:
    """Each project file (relative path) → the sha256 of its bytes now: what a client sends
    back with a change, so that a file changed meanwhile is noticed."""
    out = {}
    for path in sorted({loaded.root / PROJECT_FILE, *loaded.files}):
        found = digest(_read(path))
        if found is not None:
            out[relative(path, loaded.root)] = found
    return out


def apply(root: Path, changes: Iterable[Change], seen: Mapping[str, str] | None = None) -> Written:
    """Validate and write `changes`; raises an `EditError` (`InvalidError`, `ConflictError`,
    `MissingError`, `TakenError`) having written nothing."""
    draft = prepare(root, changes, seen)
    return write(draft)


def prepare(
    root: Path,
    changes: Iterable[Change],
    seen: Mapping[str, str] | None = None,
    before: LoadedProject | None = None,
) -> Draft:
    """The new texts of the files `changes` touch, validated with the whole project
    (`before`: the project as its files are now, when the caller has just read it)."""
    before = load_project(root) if before is None else before
    root = before.root
    trees: dict[Path, Any] = {}
    originals: dict[Path, bytes | None] = {}
    for change in changes:
        path = _file_of(before, change)
        if path not in trees:
            originals[path] = _read(path)
            try:
                trees[path] = load_tree(originals[path])
            except YAMLError:  # the file as it is cannot be read: its problems say why
                mine = [p for p in before.problems.errors if p.where.file == path]
                raise InvalidError([_located(before, p) for p in mine]) from None
        _change(before, trees[path], path, change)
    texts = {}
    for path, tree in trees.items():
        old = originals[path]
        text = render(old.decode("utf-8") if old else "", tree)
        if old is None or text.encode("utf-8") != old:
            texts[path] = text
    for path, text in texts.items():
        sent = None if seen is None else seen.get(relative(path, root))
        if seen is not None and sent != digest(originals[path]):
            old = originals[path]
            raise ConflictError(relative(path, root), old.decode("utf-8") if old else None, text)
    after = load_project(root, overlay=texts) if texts else before
    errors = after.problems.errors
    if errors:
        raise InvalidError([_located(after, p) for p in errors[:100]])
    return Draft(root, before, after, texts, originals)


def write(draft: Draft) -> Written:
    """Every file of `draft` replaced at once: temporary files first, then each renamed
    over its file; a failure puts back the ones already replaced. A file changed on disk
    since `prepare` read it is a `ConflictError`."""
    with _WRITING:
        for path, text in draft.texts.items():
            now = _read(path)
            if now != draft.originals[path]:
                name = relative(path, draft.root)
                raise ConflictError(name, now.decode("utf-8") if now else None, text)
        temps: list[tuple[Path, str]] = []
        try:
            for path, text in draft.texts.items():
                temps.append((path, _temporary(path, text)))
            done: list[Path] = []
            try:
                for path, temp in temps:
                    os.replace(temp, path)
                    done.append(path)
            except OSError:
                _put_back(draft, done)
                raise
        finally:
            for _, temp in temps:
                if os.path.exists(temp):
                    os.unlink(temp)
    return Written(draft.diffs(), fingerprints(draft.after))


def _put_back(draft: Draft, done: list[Path]) -> None:
    for path in done:
        original = draft.originals[path]
        if original is None:
            path.unlink(missing_ok=True)
        else:
            atomic_write(path, original.decode("utf-8"))


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


# --- where a definition is, or goes --------------------------------------------------------


def _file_of(loaded: LoadedProject, change: Change) -> Path:
    if change.section not in EDITABLE:
        raise EditError(f"'{change.section}' cannot be changed here: {', '.join(EDITABLE)}")
    entry = loaded.entries.get((change.section, change.name))
    if entry is not None:
        if change.new:
            raise TakenError(change.section, change.name, relative(entry.file.path, loaded.root))
        return entry.file.path
    if not change.new or change.definition is None:
        raise MissingError(change.section, change.name)
    if change.section == "kpis":
        return kpi_file(loaded, change.definition.get("function"))
    if change.section in MAIN_ONLY:
        return loaded.root / PROJECT_FILE
    return _most(loaded, change.section, None) or loaded.root / PROJECT_FILE


def kpi_file(loaded: LoadedProject, function: object = None) -> Path:
    """Where a new KPI goes: the file holding most KPIs of its `function`, else the file in
    kpis/ holding most KPIs, else a new kpis/<function>.yaml (kpis/kpis.yaml)."""
    known = {f.value for f in Function}
    if isinstance(function, str) and function in known:
        same = _most(loaded, "kpis", lambda node: plain(node.get("function")) == function)
        if same is not None:
            return same
    folder = loaded.root / "kpis"
    most = _most(loaded, "kpis", None, folder)
    if most is not None:
        return most
    stem = function if isinstance(function, str) and function in known else "kpis"
    return folder / f"{stem}.yaml"


def _most(
    loaded: LoadedProject, section: str, keep: Any, folder: Path | None = None
) -> Path | None:
    counts: dict[Path, int] = {}
    for (kind, _), entry in loaded.entries.items():
        path = entry.file.path
        if kind != section or (folder is not None and path.parent != folder):
            continue
        if keep is None or (isinstance(entry.node, CommentedMap) and keep(entry.node)):
            counts[path] = counts.get(path, 0) + 1
    return max(counts, key=lambda p: counts[p]) if counts else None


def section_of(data: Any, path: Path, root: Path, section: str) -> Any:
    """The mapping that holds a file's definitions of `section` (`kpis/*.yaml` files may
    hold them at the top level or under the section's key)."""
    if path.parent.name == section and path.parent.parent == root:
        return data.get(section, data)
    if data.get(section) is None:
        data[section] = CommentedMap()
    holder = data[section]
    if isinstance(holder, CommentedMap) and not holder and holder.fa.flow_style() is not False:
        _unfold(data, section)
    return holder


def _unfold(data: CommentedMap, section: str) -> None:
    """`alerts: {}   # none yet` made a block, to grow one definition a line: the comment
    at the end of its line stays there; the comment lines below it, which ruamel keeps with
    it, go below the new definitions (before the next key, or at the end of the file)."""
    holder = data[section]
    holder.fa.set_block_style()
    holder.ca.comment = None
    kept = data.ca.items.get(section)
    token = kept[2] if kept and len(kept) > 2 else None
    if token is None:
        return
    first, _, rest = token.value.partition("\n")
    if first.strip():
        token.value = first + "\n"
    else:
        kept[2] = None
    if not rest.strip():
        return
    below = CommentToken(rest, CommentMark(0), None)
    keys = list(data)
    after = keys[keys.index(section) + 1 :]
    if after:
        slots = data.ca.items.setdefault(after[0], [None, None, None, None])
        slots[1] = [below, *(slots[1] or [])]
    else:
        data.ca.comment = data.ca.comment or [None, None]
        data.ca.end = [below, *(data.ca.end or [])]


# --- changing the tree ---------------------------------------------------------------------


def _change(loaded: LoadedProject, tree: Any, path: Path, change: Change) -> None:
    holder = section_of(tree, path, loaded.root, change.section)
    if not isinstance(holder, CommentedMap):  # `alerts:` written as a list, say
        mine = [p for p in loaded.problems.errors if p.where.file == path]
        if mine:
            raise InvalidError([_located(loaded, p) for p in mine])
        raise EditError(f"'{change.section}' in {relative(path, loaded.root)} is not a "
                        "mapping of names to definitions")  # fmt: skip
    if change.name not in holder and not change.new:
        raise MissingError(change.section, change.name)  # gone since the project was read
    if change.definition is None:
        del holder[change.name]
        _emptied(holder)
        return
    values = {str(k): v for k, v in change.definition.items()}
    if change.name not in holder:
        holder[change.name] = block({k: v for k, v in values.items() if v is not None})
        return
    node = holder[change.name]
    if not isinstance(node, CommentedMap):
        holder[change.name] = block({k: v for k, v in values.items() if v is not None})
    elif change.merge:
        for key, value in values.items():
            _set(node, key, value)
    else:
        update(node, {k: v for k, v in values.items() if v is not None})


def update(node: CommentedMap, values: Mapping[str, Any]) -> None:
    """`node` made to hold `values`, in place: a key whose value is the same keeps its
    node (and so its text), a removed key goes, a new one is added at the end."""
    for key in [k for k in node if str(k) not in values]:
        del node[key]
    for key, value in values.items():
        _set(node, key, value)
    _emptied(node)


def _emptied(node: CommentedMap | CommentedSeq) -> None:
    """An empty mapping or list written `{}` or `[]`: ruamel writes an empty block one
    whose key holds a comment as text YAML cannot read."""
    if not node:
        node.fa.set_flow_style()


def _set(node: CommentedMap, key: str, value: Any) -> None:
    if value is None:
        node.pop(key, None)
        _emptied(node)
        return
    if key not in node:
        node[key] = _node(value, 1)
        return
    old = node[key]
    if normal(old) == normal(value):
        return
    if isinstance(old, CommentedMap) and isinstance(value, Mapping):
        update(old, {str(k): v for k, v in value.items() if v is not None})
    elif isinstance(old, CommentedSeq) and isinstance(value, list):
        _update_list(old, value)
    elif isinstance(old, _STYLED) and isinstance(value, str):
        node[key] = type(old)(value)  # the same quotes, or block style
    else:
        node[key] = _node(value, 1)


def _update_list(old: CommentedSeq, value: list[Any]) -> None:
    for index, item in enumerate(value):
        if index >= len(old):
            old.append(_node(item, 2))
        elif normal(old[index]) != normal(item):
            if isinstance(old[index], CommentedMap) and isinstance(item, Mapping):
                update(old[index], item)
            else:
                old[index] = _node(item, 2)
    del old[len(value) :]
    _emptied(old)


def normal(value: Any) -> Any:
    """A value as compared: numbers as numbers (1 == 1.0, never True), dates as written
    in JSON, mappings whatever their key order."""
    if isinstance(value, bool) or value is None:
        return ("flag", value)
    if isinstance(value, int | float):
        return ("number", float(value))
    if isinstance(value, dt.date):
        return ("text", value.isoformat())
    if isinstance(value, str):
        return ("text", str(value))
    if isinstance(value, Mapping):
        return ("map", tuple(sorted((str(k), normal(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return ("list", tuple(normal(v) for v in value))
    return ("other", repr(value))


def as_json(value: Any) -> Any:
    """A definition as written in YAML, as JSON values (dates as ISO text)."""
    value = plain(value)
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _node(value: Any, depth: int) -> Any:
    """A new value as the spec's own files write it: small mappings and lists of plain
    values in flow style (`{agg: sum, expr: amount}`, `[region, channel]`), the rest in
    blocks; a text of several lines as a literal block."""
    if isinstance(value, Mapping):
        scalars = all(not isinstance(v, Mapping | list) for v in value.values())
        node = CommentedMap()
        for key, item in value.items():
            if item is not None:
                node[str(key)] = _node(item, depth + 1)
        if scalars and depth > 0:
            node.fa.set_flow_style()
        return node
    if isinstance(value, list):
        seq = CommentedSeq(_node(v, depth + 1) for v in value)
        if all(not isinstance(v, Mapping | list) for v in value):
            seq.fa.set_flow_style()
        return seq
    if isinstance(value, str) and "\n" in value:
        return LiteralScalarString(value)
    if isinstance(value, str) and _AMBIGUOUS.match(value):
        return DoubleQuotedScalarString(value)  # "08:00", "yes": text to every YAML reader
    return value


def flow(values: Mapping[str, Any]) -> CommentedMap:
    node = CommentedMap(values)
    node.fa.set_flow_style()
    return node


def block(values: Mapping[str, Any]) -> CommentedMap:
    """A new definition: its keys one a line, small mappings and lists in flow style."""
    node = CommentedMap()
    for key, value in values.items():
        node[key] = _node(value, 1)
    return node


# --- reading and writing text --------------------------------------------------------------


def yaml_for(text: str = "") -> YAML:
    """A round-trip YAML writer that indents as `text` already does."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    mapping, sequence, offset = indents(text)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def indents(text: str) -> tuple[int, int, int]:
    """The mapping indent, sequence indent and dash offset a file uses (2, 2, 0 if unsure)."""
    mapping, sequence, offset = 2, 2, 0
    found_mapping = found_sequence = False
    previous: tuple[int, str] | None = None
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        if previous is not None and previous[1].endswith(":") and indent > previous[0]:
            step = indent - previous[0]
            if stripped.startswith("- ") and not found_sequence:
                offset, sequence, found_sequence = step, step + 2, True
            elif not stripped.startswith("- ") and not found_mapping:
                mapping, found_mapping = step, True
        same_level = previous is not None and indent == previous[0]
        if stripped.startswith("- ") and same_level and not found_sequence:
            assert previous is not None
            if previous[1].endswith(":"):
                offset, sequence, found_sequence = 0, 2, True
        previous = (indent, stripped.split(" #")[0].rstrip())
    return mapping, max(sequence, offset + 2), offset


def load_tree(data: bytes | None) -> Any:
    """A file's round-trip tree (an empty mapping for a file not there yet)."""
    text = data.decode("utf-8") if data else ""
    tree = yaml_for(text).load(text) if text.strip() else None
    return CommentedMap() if tree is None else tree


def load_rt(path: Path) -> Any:
    return load_tree(path.read_bytes())


def _dump(yaml: YAML, tree: Any) -> str:
    out = StringIO()
    yaml.dump(tree, out)
    return out.getvalue()


def render(original: str, tree: Any) -> str:
    """`tree` as text, keeping every line of `original` that the change left alone.

    Ruamel writes a whole file its own way (one space after a colon, its own spacing in
    flow mappings). The original is written that way too, and the two compared line by
    line: lines the same there are taken from the original as they were, the others from
    the new text. Should the spliced text not read back as `tree` (ruamel wrote the
    original with other lines), ruamel's own text is kept."""
    yaml = yaml_for(original)
    ending = "\r\n" if "\r\n" in original else "\n"
    full = _dump(yaml, tree)
    if ending != "\n":  # comments read from CRLF text keep their "\r": one ending a line
        full = "".join(line.rstrip("\r\n") + ending for line in full.splitlines(keepends=True))
    if not original.strip():
        return full
    lines = [line.rstrip("\r\n") + ending for line in original.splitlines()]
    base = _dump(yaml, yaml.load(original)).splitlines(keepends=True)
    new = full.splitlines(keepends=True)
    if len(base) != len(lines):
        return full
    out: list[str] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, base, new, autojunk=False).get_opcodes():
        if tag == "equal":
            out += lines[i1:i2]
        else:
            out += [line.rstrip("\r\n") + ending for line in new[j1:j2]]
    text = "".join(out)
    if not original.endswith("\n") and text.endswith(ending):
        text = text[: -len(ending)]  # a file without a newline at its end stays so
    try:
        same = normal(plain(yaml_for(text).load(text))) == normal(plain(tree))
    except Exception:  # a splice ruamel cannot read: its own text then
        same = False
    return text if same else full


def atomic_write(path: Path, text: str) -> None:
    """`text` into `path` at once: a temporary file beside it renamed over it."""
    os.replace(_temporary(path, text), path)


def _temporary(path: Path, text: str) -> str:
    """A temporary file beside `path` holding `text`, with the mode `path` has (or a new
    file's): a reader of the folder never sees a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = 0o644  # not mkstemp's 0600: the team's other tools read it too
        os.chmod(temp, mode)
    except BaseException:
        os.unlink(temp)
        raise
    return temp


# --- where a problem is, as a path of keys -------------------------------------------------


def _located(loaded: LoadedProject, problem: Problem) -> Located:
    file = problem.where.file
    return Located(problem, relative(file, loaded.root), json_path(loaded, problem))


def json_path(loaded: LoadedProject, problem: Problem) -> tuple[PathPart, ...]:
    """The keys leading to the value a problem points at, e.g. ("kpis", "cac", "formula"):
    the last key or item written at or before its place."""
    file = problem.where.file
    source = loaded.files.get(file)
    if source is None or source.data is None:
        return ()
    place = (problem.where.line - 1, problem.where.col - 1)
    best: list[Any] = [(-1, -1), ()]

    def seen(at: tuple[int, int], path: tuple[PathPart, ...]) -> None:
        if best[0] <= at <= place:
            best[0], best[1] = at, path

    def walk(node: Any, path: tuple[PathPart, ...], depth: int) -> None:
        if depth > 50:
            return
        parts: list[tuple[PathPart, Any]] = []
        if isinstance(node, CommentedMap):
            parts = [(str(k), k) for k in node]
        elif isinstance(node, CommentedSeq):
            parts = [(i, i) for i in range(len(node))]
        for part, key in parts:
            try:
                places = (
                    [node.lc.key(key), node.lc.value(key)]
                    if isinstance(node, CommentedMap)
                    else [node.lc.item(key)]
                )
            except (KeyError, IndexError, TypeError):
                places = []
            for line, col in places:
                seen((line, col), (*path, part))
            walk(node[key], (*path, part), depth + 1)

    walk(source.data, (), 0)
    path: tuple[PathPart, ...] = best[1]
    folder = file.parent
    in_folder = folder.parent == loaded.root and folder.name in FOLDER_SECTIONS
    if in_folder and not _under_key(source.data, folder.name):
        path = (folder.name, *path)
    return path


def _under_key(data: Any, section: str) -> bool:
    return isinstance(data, CommentedMap) and list(data) == [section]

"""Reading YAML files while keeping where every key and value was written."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

from tolok.spec.problems import Location, Problems, Text, say

PathPart = str | int


@dataclass(frozen=True)
class SourceFile:
    path: Path
    lines: list[str]
    data: Any  # the round-trip tree: CommentedMap / CommentedSeq / scalars
    values: int = 0  # keys, items and values, with aliases expanded (see MAX_VALUES)


MAX_FILE_BYTES = 5_000_000
"""A project file is read only up to this size (5 MB): definitions, not data. A file of
170,945 KPIs (50 MB) once kept `tolok validate` busy for minutes."""
MAX_VALUES = 1_000_000
"""Keys, items and values a project's files may hold once their aliases (`*name`) are
expanded: nine KPIs whose tags each repeat the previous anchor ten times hold a billion."""


def read_yaml(path: Path, problems: Problems, room: int = MAX_VALUES) -> SourceFile | None:
    """Read one YAML file; a syntax error becomes a problem with its position, and so does
    a file over the limits (its size, its nesting, its aliases expanded: at most `room`
    values, what the project's other files left of `MAX_VALUES`)."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.add(
            "TLK001",
            say("file is not UTF-8 text ({reason})", reason=exc.reason),
            Location(path, 1, 1),
        )
        return None
    except OSError as exc:
        problems.add(
            "TLK007", say("cannot read file: {reason}", reason=exc.strerror), Location(path, 1, 1)
        )
        return None
    if len(raw) > MAX_FILE_BYTES:
        problems.add(
            "TLK001",
            say(
                "file is larger than {n} bytes (5 MB), the most a project file may hold",
                n=MAX_FILE_BYTES,
            ),
            Location(path, 1, 1),
            say(
                "split the definitions over several files in kpis/ and goals/; keep data in "
                "data files (`source: file:…`), not in YAML"
            ),
        )
        return None
    deep = _flow_too_deep(text)
    if deep is not None:
        problems.add(
            "TLK001",
            say("lists and mappings are nested more than {n} levels deep", n=MAX_NESTING),
            Location(path, *deep),
            say("a project file needs a few levels; flatten this value"),
        )
        return SourceFile(path, text.splitlines(), None)
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    try:
        data = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problems.add("TLK001", _yaml_message(exc), Location(path, line, col), _yaml_hint(exc))
        return SourceFile(path, text.splitlines(), None)
    except RecursionError:
        problems.add(
            "TLK001",
            say("YAML cannot be read: it is nested too deeply"),
            Location(path, 1, 1),
            say("a project file nests at most {n} levels of lists and mappings", n=MAX_NESTING),
        )
        return SourceFile(path, text.splitlines(), None)
    source = SourceFile(path, text.splitlines(), data)
    try:
        values = _count(data, {}, set(), 0, room)
    except _OverLimitError as over:
        problems.add("TLK001", over.message, _place(source, over.parent, over.part), over.hint)
        return SourceFile(path, source.lines, None)
    return SourceFile(path, source.lines, data, values)


MAX_NESTING = 50


def _flow_too_deep(text: str) -> tuple[int, int] | None:
    """Where brackets (`[`, `{`) first open more than twice `MAX_NESTING` deep, outside
    quotes and comments: ruamel's scanner slows down with the square of that depth (3,000
    brackets took 12 s) before its own recursion gives up, so they are counted first. A
    bracket in a plain text value (`title: Sales [EU]`) counts too: twice the limit leaves
    room for those."""
    if text.count("[") + text.count("{") <= 2 * MAX_NESTING:
        return None
    depth = line = col = 0
    quote: str | None = None
    previous = "\n"
    for char in text:
        col += 1
        if char == "\n":
            line, col = line + 1, 0
        if quote is not None:
            quote = None if char == quote else quote
        elif char == "#" and previous in " \t\n":
            quote = "\n"  # a comment runs to the end of the line
        elif char in "'\"" and previous in " \t\n[{,:":
            quote = char
        elif char in "[{":
            depth += 1
            if depth > 2 * MAX_NESTING:
                return line + 1, col
        elif char in "]}":
            depth = max(depth - 1, 0)
        previous = char
    return None


class _OverLimitError(Exception):
    def __init__(self, message: Text, parent: Any, part: PathPart, hint: Text) -> None:
        super().__init__(str(message))
        self.message, self.parent, self.part, self.hint = message, parent, part, hint


def _count(node: Any, counted: dict[int, int], open_: set[int], depth: int, room: int) -> int:
    """The values of the tree with every alias expanded, as long as they stay within `room`
    and `MAX_NESTING` levels: what a billion-laughs file would make `plain()` and pydantic
    build. Counted without expanding anything: each list or mapping is counted once and
    its count reused wherever an alias repeats it."""
    if not isinstance(node, dict | list):
        return 1
    known = counted.get(id(node))
    if known is not None:
        return known
    if id(node) in open_:
        raise _OverLimitError(
            say("an alias refers to the list or mapping that holds it"),
            node,
            0,
            say("an anchor (&name) can be repeated (*name) only outside of itself"),
        )
    open_.add(id(node))
    total = 1
    parts: list[tuple[PathPart, Any]] = (
        [(k, v) for k, v in node.items()] if isinstance(node, dict) else list(enumerate(node))
    )
    for part, value in parts:
        if depth >= MAX_NESTING:
            raise _OverLimitError(
                say("lists and mappings are nested more than {n} levels deep", n=MAX_NESTING),
                node,
                part,
                say("a project file needs a few levels; flatten this value"),
            )
        below = _count(value, counted, open_, depth + 1, room)
        total += (1 if isinstance(node, dict) else 0) + below
        if total > room:
            anchor = getattr(getattr(value, "anchor", None), "value", None)
            raise _OverLimitError(
                say(
                    "with aliases{anchor} expanded, the project's files hold more than {n} "
                    "values, the most tolok reads",
                    anchor=" (*" + anchor + ")" if anchor else "",
                    n=MAX_VALUES,
                ),
                node,
                part,
                say("repeat an anchor fewer times, or write the values out"),
            )
    open_.discard(id(node))
    counted[id(node)] = total
    return total


def _place(file: SourceFile, parent: Any, part: PathPart) -> Location:
    """Where `part` of `parent` was written. An alias has no place of its own in the tree
    (ruamel gives its anchor's): then the list or mapping that holds it."""
    lc = getattr(parent, "lc", None)
    try:
        child = parent[part]
    except (KeyError, IndexError, TypeError):
        child = None
    if lc is None or (getattr(child, "anchor", None) is not None and child.anchor.value):
        return _node_location(file, parent)
    try:
        if isinstance(parent, CommentedMap):
            line, col = lc.value(part)
            return Location(file.path, line + 1, col + 1)
        if isinstance(parent, CommentedSeq) and isinstance(part, int):
            line, col = lc.item(part)
            return Location(file.path, line + 1, col + 1)
    except (KeyError, IndexError, TypeError):  # a key merged in (<<: *name)
        pass
    return _node_location(file, parent)


def _yaml_message(exc: MarkedYAMLError) -> Text:
    """The YAML reader's complaint; its own words (`mapping values are not allowed here`)
    stay in English inside the translated sentence."""
    problem = (exc.problem or "invalid YAML").strip()
    if problem.startswith("found duplicate key"):
        key = problem.split('"')[1] if '"' in problem else "?"
        return say("duplicate key '{key}' in this mapping", key=key)
    context, mark = exc.context, exc.context_mark
    if context and mark and exc.problem_mark and mark.line != exc.problem_mark.line:
        what = context.removeprefix("while ").removeprefix("parsing ").removeprefix("scanning ")
        return say(
            "YAML cannot be read: {problem} ({what} that starts at line {line}, column {column})",
            problem=problem,
            what=what,
            line=str(mark.line + 1),
            column=str(mark.column + 1),
        )
    return say("YAML cannot be read: {problem}", problem=problem)


def _yaml_hint(exc: MarkedYAMLError) -> Text | None:
    problem = exc.problem or ""
    if problem.startswith("found duplicate key"):
        return say("a key may appear once per mapping; remove or rename one of them")
    if "tab" in problem:
        return say("indent with spaces, not tabs")
    if "mapping values are not allowed" in problem:
        return say("a value containing ': ' must be quoted")
    return say("check indentation, quotes and brackets around this place")


def plain(node: Any) -> Any:
    """The round-trip tree as plain dicts, lists, str, int, float, bool and dates."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, bool) or node is None or isinstance(node, dt.date):
        return node
    if isinstance(node, str):
        return str(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def locate(
    file: SourceFile, node: Any, path: tuple[PathPart, ...], *, key: bool = False
) -> Location:
    """Where `path` (keys and indexes below `node`) was written.

    Parts of the path that are not in the YAML (pydantic's union tags, list-wrapping of a
    single value) are skipped. With `key=True` the last part points at the key itself.
    """
    here = _node_location(file, node)
    current = node
    for index, part in enumerate(path):
        last = index == len(path) - 1
        if isinstance(current, CommentedMap) and part in current:
            line, col = current.lc.key(part) if (key and last) else current.lc.value(part)
            here = Location(
                file.path, line + 1, col + 1, _length(current[part], key and last, part)
            )
            current = current[part]
        elif isinstance(current, CommentedSeq) and isinstance(part, int) and part < len(current):
            line, col = current.lc.item(part)
            here = Location(file.path, line + 1, col + 1, _length(current[part], False, part))
            current = current[part]
    return here


def _node_location(file: SourceFile, node: Any) -> Location:
    lc = getattr(node, "lc", None)
    if lc is not None and lc.line is not None:
        return Location(file.path, lc.line + 1, lc.col + 1)
    return Location(file.path, 1, 1)


def _length(value: Any, is_key: bool, part: PathPart) -> int:
    if is_key:
        return len(str(part))
    if isinstance(value, str) and "\n" not in value:
        quoted = isinstance(value, SingleQuotedScalarString | DoubleQuotedScalarString)
        return len(value) + (2 if quoted else 0)
    return 1


def locate_in_scalar(file: SourceFile, start: Location, value: str, offset: int) -> Location:
    """Where character `offset` of a string value was written in the file.

    Handles plain and quoted one-line scalars exactly, and literal (`|`), folded (`>`)
    and multi-line plain scalars line by line.
    """
    if isinstance(value, LiteralScalarString | FoldedScalarString):
        return _in_block(file, start, value, offset)
    col = start.col + (
        1 if isinstance(value, SingleQuotedScalarString | DoubleQuotedScalarString) else 0
    )
    line_text = file.lines[start.line - 1] if start.line <= len(file.lines) else ""
    room = len(line_text) - (col - 1)
    if offset <= room or start.line >= len(file.lines):  # `room`: just past its end
        return start.shifted(start.line, col + offset, 1)
    # A plain or quoted scalar folded over several lines: each line break became a space.
    offset -= room + 1
    line = start.line + 1
    while line <= len(file.lines):
        text = file.lines[line - 1]
        indent = len(text) - len(text.lstrip())
        content = len(text.strip())
        if offset <= content:
            return start.shifted(line, indent + 1 + offset, 1)
        offset -= content + 1
        line += 1
    return start.shifted(start.line, col, 1)


def _in_block(file: SourceFile, start: Location, value: str, offset: int) -> Location:
    """Block scalars keep each line's indentation beyond the block's own indentation."""
    literal = isinstance(value, LiteralScalarString)
    lines = file.lines[start.line :]
    filled = [text for text in lines if text.strip()]
    if not filled:
        return start
    block_indent = len(filled[0]) - len(filled[0].lstrip())
    consumed = 0
    for number, text in enumerate(lines, start=start.line + 1):
        content = text[block_indent:].rstrip() if text.strip() else ""
        if offset <= consumed + len(content):
            return start.shifted(number, block_indent + 1 + offset - consumed, 1)
        # The newline (literal) or the folding space (folded) between lines.
        consumed += len(content) + (1 if literal or content else 0)
    return start

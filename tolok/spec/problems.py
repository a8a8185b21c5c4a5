"""Problems found in a project: what is wrong, where (file:line:col), and how to fix it.

Codes are stable so that people and tools can look them up or silence them:

TLK001 YAML cannot be read          TLK010 formula cannot be read
TLK002 unknown key                  TLK011 unknown name in a formula
TLK003 missing key                  TLK012 type error in a formula
TLK004 invalid value                TLK013 wrong number of arguments
TLK005 duplicate name               TLK014 cycle between KPIs or goals
TLK006 invalid name                 TLK015 ambiguous name
TLK007 missing file or folder       TLK016 unknown column
TLK008 unknown reference (goal, …)  TLK017 a dataset's query (`source: {sql: …}`) cannot
                                    be read, is not one query, or reads files
                                    TLK018 a `file:` source outside the project folder
                                    and `data_dirs`

TLK001 also covers a file over a limit: its size, its aliases expanded, its nesting, the
number of definitions (see `source` and `loader`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


@dataclass(frozen=True)
class Text:
    """A sentence kept as its English template and its values, worded when it is shown.

    The template is a `str.format` template marked for translation (`say`), the values are
    names, paths, keys and numbers that stay as written (numbers in the language's digits):

    >>> text = say("unknown key '{key}'", key="formular")
    >>> str(text)
    "unknown key 'formular'"
    >>> text.worded(Voice("id", {"unknown key '{key}'": "kunci '{key}' tidak dikenal"}.get))
    "kunci 'formular' tidak dikenal"

    A `Text` made of a plain string (`Text.plain`) is shown as it is, in English.
    """

    template: str
    params: tuple[tuple[str, object], ...] = ()
    literal: bool = False

    @staticmethod
    def plain(text: str) -> Text:
        return Text(text, (), literal=True)

    def filled(self, **params: object) -> Text:
        """This template with `params` (a template written once, filled where it is used)."""
        return Text(self.template, tuple(params.items()))

    def worded(self, voice: Voice | None = None) -> str:
        return (voice or ENGLISH).word(self)

    def __str__(self) -> str:
        return self.worded()

    def __add__(self, other: Text | str) -> Text:
        """Two sentences one after the other: each is translated on its own."""
        other = other if isinstance(other, Text) else Text.plain(other)
        return Text(_JOINED, (("first", self), ("rest", other)))


_JOINED = "{first}{rest}"


def say(template: str, **params: object) -> Text:
    """`template` with `params`, translated when shown (babel extracts it: `-k say`)."""
    return Text(template, tuple(params.items()))


@dataclass(frozen=True)
class Voice:
    """How problems are worded: a language and its catalog (`lookup` from an English template
    to the language's, None where there is none). The spec knows no catalog; the terminal
    and the pages pass theirs (`tolok.i18n.voice`)."""

    lang: str = "en"
    lookup: Callable[[str], str | None] | None = None

    def word(self, text: Text) -> str:
        if text.literal:
            return text.template
        template = text.template
        if self.lookup is not None and template != _JOINED:
            template = self.lookup(template) or template
        values = {key: self._value(value) for key, value in text.params}
        return template.format(**values)

    def _value(self, value: object) -> object:
        if isinstance(value, Text):
            return self.word(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            from babel.numbers import format_decimal

            return format_decimal(value, "#,##0.###", locale=self.lang)
        return value


ENGLISH = Voice()


def _text(message: str | Text) -> Text:
    return message if isinstance(message, Text) else Text.plain(message)


class Severity(StrEnum):
    error = "error"
    warning = "warning"


@dataclass(frozen=True)
class Location:
    """A place in a file; line and column count from 1, as editors show them."""

    file: Path
    line: int
    col: int
    length: int = 1

    def shifted(self, line: int, col: int, length: int) -> Location:
        return Location(self.file, line, col, length)


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    where: Location
    hint: str | None = None
    severity: Severity = Severity.error
    said: Text | None = field(default=None, compare=False, repr=False)
    """The message as template and values, for other languages (else `message`, as it is)."""
    hinted: Text | None = field(default=None, compare=False, repr=False)

    @staticmethod
    def of(
        code: str,
        message: str | Text,
        where: Location,
        hint: str | Text | None = None,
        severity: Severity = Severity.error,
    ) -> Problem:
        """A problem whose message and hint may be `say(…)` texts: `message` and `hint` keep
        their English for tools (`--format json`), `said` and `hinted` their templates."""
        said, hinted = _text(message), None if hint is None else _text(hint)
        english = None if hinted is None else str(hinted)
        return Problem(code, str(said), where, english, severity, said, hinted)

    def message_in(self, voice: Voice | None = None) -> str:
        return (self.said or Text.plain(self.message)).worded(voice)

    def hint_in(self, voice: Voice | None = None) -> str | None:
        if self.hint is None:
            return None
        return (self.hinted or Text.plain(self.hint)).worded(voice)

    def to_dict(self, root: Path) -> dict[str, object]:
        return {
            "file": _relative(self.where.file, root),
            "line": self.where.line,
            "column": self.where.col,
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "hint": self.hint,
        }

    def headline(self, root: Path, voice: Voice | None = None) -> str:
        """`kpis/a.yaml:3:5: error[TLK011] unknown name 'x'`; in `voice`'s language the
        words, never the place or the code (`galat[TLK011] nama 'x' tidak dikenal`)."""
        where = f"{_relative(self.where.file, root)}:{self.where.line}:{self.where.col}"
        severity = SEVERITY_WORDS[self.severity].worded(voice)
        return f"{where}: {severity}[{self.code}] {self.message_in(voice)}"

    def render(self, root: Path, lines: list[str] | None, voice: Voice | None = None) -> str:
        """The headline, the source line with a caret under the place, and the hint."""
        out = [self.headline(root, voice)]
        if lines is not None and 1 <= self.where.line <= len(lines):
            text = lines[self.where.line - 1].rstrip("\n").replace("\t", " ")
            gutter = f"{self.where.line:>4} | "
            width = max(1, min(self.where.length, len(text) - self.where.col + 1))
            out.append(gutter + text)
            out.append(" " * (len(gutter) + self.where.col - 1) + "^" * width)
        hint = self.hint_in(voice)
        if hint:
            out.append("  " + say("hint: {hint}", hint=hint).worded(voice))
        return "\n".join(out)


SEVERITY_WORDS = {Severity.error: say("error"), Severity.warning: say("warning")}


@dataclass
class Problems:
    """Collects problems across a whole project so that one run reports all of them."""

    items: list[Problem] = field(default_factory=list)

    def add(
        self,
        code: str,
        message: str | Text,
        where: Location,
        hint: str | Text | None = None,
        severity: Severity = Severity.error,
    ) -> None:
        """Mark sentences with `say("unknown key '{key}'", key=name)` so that they are shown
        in the reader's language; a plain string is shown as it is."""
        self.items.append(Problem.of(code, message, where, hint, severity))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.sorted() if p.severity is Severity.error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.sorted() if p.severity is Severity.warning]

    def sorted(self) -> list[Problem]:
        return sorted(self.items, key=lambda p: (str(p.where.file), p.where.line, p.where.col))

    def to_json(self, root: Path) -> str:
        return json.dumps(
            {
                "ok": not self.errors,
                "errors": [p.to_dict(root) for p in self.errors],
                "warnings": [p.to_dict(root) for p in self.warnings],
            },
            indent=2,
            ensure_ascii=False,
        )


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()

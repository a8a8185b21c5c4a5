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
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


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

    def headline(self, root: Path) -> str:
        where = f"{_relative(self.where.file, root)}:{self.where.line}:{self.where.col}"
        return f"{where}: {self.severity.value}[{self.code}] {self.message}"

    def render(self, root: Path, lines: list[str] | None) -> str:
        """The headline, the source line with a caret under the place, and the hint."""
        out = [self.headline(root)]
        if lines is not None and 1 <= self.where.line <= len(lines):
            text = lines[self.where.line - 1].rstrip("\n").replace("\t", " ")
            gutter = f"{self.where.line:>4} | "
            width = max(1, min(self.where.length, len(text) - self.where.col + 1))
            out.append(gutter + text)
            out.append(" " * (len(gutter) + self.where.col - 1) + "^" * width)
        if self.hint:
            out.append(f"  hint: {self.hint}")
        return "\n".join(out)


@dataclass
class Problems:
    """Collects problems across a whole project so that one run reports all of them."""

    items: list[Problem] = field(default_factory=list)

    def add(
        self,
        code: str,
        message: str,
        where: Location,
        hint: str | None = None,
        severity: Severity = Severity.error,
    ) -> None:
        self.items.append(Problem(code, message, where, hint, severity))

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

"""A loaded project: the validated models plus where every definition was written."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tolok.spec.models import Project
from tolok.spec.problems import Location, Problems
from tolok.spec.source import PathPart, SourceFile, locate


@dataclass(frozen=True)
class EntrySource:
    """Where one named definition (a dataset, goal or KPI) was written."""

    file: SourceFile
    node: Any
    key: Location


@dataclass
class LoadedProject:
    root: Path
    project: Project | None
    problems: Problems
    files: dict[Path, SourceFile] = field(default_factory=dict)
    entries: dict[tuple[str, str], EntrySource] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)
    """Names of definitions that failed validation: already reported, so references to
    them are not reported again as unknown."""

    @property
    def ok(self) -> bool:
        return self.project is not None and not self.problems.errors

    def locate(self, section: str, name: str, *path: PathPart, key: bool = False) -> Location:
        """Where a part of a definition was written, e.g. `("kpis", "cac", "formula")`."""
        entry = self.entries[(section, name)]
        if not path:
            return entry.key
        return locate(entry.file, entry.node, tuple(path), key=key)

    def raw(self, section: str, name: str, *path: PathPart) -> Any:
        """The YAML value as written (keeps scalar styles for precise positions)."""
        node = self.entries[(section, name)].node
        for part in path:
            node = node[part]
        return node

    def written_locale(self) -> str | None:
        """The project's `locale` (`en`, `id`), also when the project did not validate: as
        tolok.yaml writes it, if it could be read; else None."""
        if self.project is not None:
            return self.project.locale.value
        source = self.files.get(self.root / "tolok.yaml")
        data = source.data if source is not None else None
        locale = data.get("locale") if isinstance(data, dict) else None
        return locale if locale in ("en", "id") else None

    def lines(self, file: Path) -> list[str] | None:
        source = self.files.get(file)
        return source.lines if source else None

"""Which files a `file:` source may read: those in the project folder, and in the folders
`data_dirs:` lists, after symlinks and `..` are resolved.

`source: file:../../../../etc/passwd` once validated and was read. A path is now judged by
where it really is, not by how it is written: `data/../../x.csv` and a symlink
`data/x.csv -> /etc/passwd` are outside as much as `/etc/passwd` is. Validation refuses
them (TLK018) and the engine does not read them, even for a project never validated.

A pattern that is a URI of another file system (`s3a://lake/orders/*.parquet`,
`hdfs://namenode:8020/…`) names files no process of tolok's lists: a Spark warehouse passes
it as written to the cluster, which reads it with its own credentials (see `remote`). A
`file://` URI is a path on this machine and is judged as one.

Imports nothing of tolok: the loader, the column sniffer, the warehouse and the watermarks
all ask here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tolok.spec.problems import Text, say


@dataclass(frozen=True)
class Matched:
    """The files a pattern matches: those it may read, and those outside (by real path)."""

    files: list[Path]
    outside: list[Path]
    pattern_outside: bool = False
    """The pattern's folder is itself outside every allowed folder: nothing was listed."""

    @property
    def refused(self) -> bool:
        return self.pattern_outside or bool(self.outside)


OUTSIDE_HINT_SAID = say(
    "keep data files in the project folder, or list their folder in `data_dirs:` in "
    "tolok.yaml, e.g. data_dirs: [/srv/exports]"
)
OUTSIDE_HINT = str(OUTSIDE_HINT_SAID)


def outside_message(root: Path, pattern: str, matched: Matched) -> Text:
    """What a refused `file:` source reads: the pattern, or its first file outside."""
    if matched.pattern_outside or not matched.outside:
        return say(
            "'{pattern}' is outside the project folder and the folders of `data_dirs`",
            pattern=pattern,
        )
    first = matched.outside[0]
    real = first.resolve()
    shown = (first.relative_to(root) if first.is_relative_to(root) else first).as_posix()
    if len(matched.outside) > 1:
        return say(
            "'{pattern}' matches {file} and {n} more, which is really {real}: outside "
            "the project folder and the folders of `data_dirs`",
            pattern=pattern,
            file=shown,
            n=len(matched.outside) - 1,
            real=real.as_posix(),
        )
    return say(
        "'{pattern}' matches {file}, which is really {real}: outside the project "
        "folder and the folders of `data_dirs`",
        pattern=pattern,
        file=shown,
        real=real.as_posix(),
    )


_URI = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+)://")
SPARK_SCHEMES = ("pyspark", "spark", "sc")
"""Warehouse URL schemes whose engine is Spark (and so reads remote file systems)."""


def remote(pattern: str) -> str | None:
    """The scheme of a pattern naming another file system's files, else None.

    >>> remote("s3a://lake/orders/*.parquet"), remote("data/*.csv"), remote("file:///srv/x.csv")
    ('s3a', None, None)
    >>> remote("C:/exports/x.csv") is None  # a drive letter is no scheme
    True
    """
    found = _URI.match(pattern)
    if found is None or found.group(1).lower() == "file":
        return None
    return found.group(1).lower()


def remote_refused(pattern: str, scheme: str) -> tuple[Text, Text]:
    """What is said of a remote pattern where no Spark reads it, and what to do."""
    return (
        say(
            "'{pattern}' is on another file system ({scheme}://): only a Spark warehouse "
            "reads those, with the cluster's own access",
            pattern=pattern,
            scheme=scheme,
        ),
        say(
            "copy the files into the project folder, or set `warehouse:` to Spark "
            "(pyspark://, spark:// or sc://)"
        ),
    )


def on_spark(warehouse: str) -> bool:
    """The warehouse URL names a Spark engine (`pyspark://`, `spark://`, `sc://`)."""
    return warehouse.split("://", 1)[0].lower() in SPARK_SCHEMES if "://" in warehouse else False


def local_pattern(pattern: str) -> str:
    """A `file://` URI as the path it names (`file:///srv/x/*.csv` -> `/srv/x/*.csv`)."""
    return pattern[len("file://") :] if pattern.lower().startswith("file://") else pattern


def allowed_folders(root: Path, data_dirs: Iterable[str] = ()) -> tuple[Path, ...]:
    """The project folder and each of `data_dirs` (relative to the project, or absolute),
    as real paths.

    >>> allowed_folders(Path("/srv/shop"), ["/mnt/exports"])[1].as_posix()
    '/mnt/exports'
    """
    folders = [root, *((root / d) for d in data_dirs)]
    return tuple(dict.fromkeys(folder.resolve() for folder in folders))


def within(path: Path, folders: tuple[Path, ...]) -> bool:
    """`path`, with its symlinks and `..` resolved, lies in one of `folders`."""
    real = path.resolve()
    return any(real.is_relative_to(folder) for folder in folders)


def match_files(root: Path, pattern: str, data_dirs: Iterable[str] = ()) -> Matched:
    """The files a `file:` pattern (a glob, relative to the project folder) matches.

    A pattern whose fixed part (before the first wildcard) lies outside every allowed
    folder, and holds none of them, is not listed at all: `file:/**/*.csv` must not walk
    the whole disk to find out that nothing there may be read."""
    if remote(pattern):
        return Matched([], [])
    pattern = local_pattern(pattern)
    folders = allowed_folders(root, data_dirs)
    path = Path(pattern)
    base = _fixed_part(path if path.is_absolute() else root / path)
    real = base.resolve()
    reachable = any(real.is_relative_to(f) or f.is_relative_to(real) for f in folders)
    if not reachable:
        return Matched([], [], pattern_outside=True)
    if path.is_absolute():
        found = Path(path.anchor).glob(str(path.relative_to(path.anchor)))
    else:
        found = root.glob(pattern)
    files = sorted(p for p in found if p.is_file())
    return Matched(
        [f for f in files if within(f, folders)], [f for f in files if not within(f, folders)]
    )


def _fixed_part(path: Path) -> Path:
    """The leading parts of a path that hold no wildcard: `data/2026/*.csv` -> `data/2026`."""
    parts = path.parts
    for index, part in enumerate(parts):
        if any(ch in part for ch in "*?["):
            return Path(*parts[:index])
    return path

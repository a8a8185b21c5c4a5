"""Imports point one way along the pipeline (DESIGN.md): spec → compile → engine → store → …"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "tolok"
ORDER = [
    "spec",
    "lint",
    "importers",
    "compile",
    "engine",
    "store",
    "track",
    "answers",
    "catalog",
    "notify",
    "auth",
    "builder",
    "server",
    "cli",
]
# What each package may never import (DESIGN.md's "knows nothing of" column).
FORBIDDEN = {
    "spec": {
        "lint",
        "compile",
        "engine",
        "store",
        "track",
        "catalog",
        "notify",
        "server",
        "auth",
        "cli",
        "ibis",
        "sqlalchemy",
        "fastapi",
        "duckdb",
    },
    "lint": {"compile", "engine", "store", "server", "cli", "ibis", "sqlalchemy", "fastapi"},
    # Another tool's definitions become a project's YAML: nothing is computed or stored.
    "importers": {
        "compile",
        "engine",
        "store",
        "track",
        "server",
        "cli",
        "ibis",
        "sqlalchemy",
        "fastapi",
        "duckdb",
    },
    "compile": {"engine", "store", "track", "server", "cli", "sqlalchemy", "fastapi"},
    "track": {"server", "cli", "ibis", "sqlalchemy", "fastapi"},
    # What every surface answers from knows none of the surfaces.
    "answers": {"server", "cli", "notify", "fastapi", "typer", "rich", "jinja2"},
    "store": {"compile", "engine", "track", "server", "cli", "ibis", "duckdb", "fastapi", "pandas"},
    # The builder's logic (files read, datasets proposed, KPIs previewed) knows no surface.
    "builder": {"server", "cli", "fastapi", "typer", "rich", "jinja2"},
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_packages_import_only_what_they_may() -> None:
    bad: list[str] = []
    for package, forbidden in FORBIDDEN.items():
        for path in (PACKAGE / package).rglob("*.py") if (PACKAGE / package).exists() else []:
            for module in imported_modules(path):
                parts = module.split(".")
                name = parts[1] if parts[0] == "tolok" and len(parts) > 1 else parts[0]
                if name in forbidden:
                    bad.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert bad == []


def test_order_lists_every_package() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert packages <= set(ORDER)

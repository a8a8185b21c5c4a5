"""The `tolok` command line: the Typer app (`tolok.cli.app`) and its commands, one module per
group. Importing this package registers them all; `tolok` and `python -m tolok` call `main`.

    app.py       the app, the shared options, console and project loading
    project.py   validate, kpis, lint, schema, init, db upgrade
    results.py   refresh, show, status, goals, history, suggest-target
    why.py       explain, annotate, impact
    data.py      enter, ingest, audit, target set
    catalog.py   catalog (list), search, show, add
    imports.py   import dbt
    server.py    serve, demo, user
    notify.py    report, run-due, alerts, deliveries
    lang.py      the language the terminal speaks
    terminal/    the work each command does and what it prints, imported when it runs

What the terminal and the server both answer from is `tolok.answers`.
"""

# The order of the imports is the order of `tolok --help`: define, compute, read, act, share.
from tolok.cli import project, results, why, data, catalog, imports, notify, server  # noqa: I001
from tolok.cli.app import app, main

__all__ = [
    "app",
    "catalog",
    "data",
    "imports",
    "main",
    "notify",
    "project",
    "results",
    "server",
    "why",
]

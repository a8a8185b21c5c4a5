"""tolok: key performance indicators as code.

From Python (`tolok.api`): `tolok.open(path)` gives a `Project` whose KPIs' series,
statuses and explanations are pandas frames, the same numbers `tolok show` prints.
"""

from __future__ import annotations

from typing import Any

PUBLIC = ("open", "Project", "ProjectError", "QueryError", "Refresh")
"""What `import tolok` offers, from `tolok.api`, imported when first used: a command that
never asks for them does not pay for them."""


def __getattr__(name: str) -> Any:
    if name in PUBLIC:
        from tolok import api

        return getattr(api, name)
    # The version is read from the installed metadata only when asked for: importing
    # importlib.metadata costs every command a few hundredths of a second.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("tolok")
        except PackageNotFoundError:  # a source tree that was never installed
            return "0.0.0"
    raise AttributeError(name)

"""tolok: key performance indicators as code."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    # The version is read from the installed metadata only when asked for: importing
    # importlib.metadata costs every command a few hundredths of a second.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("tolok")
        except PackageNotFoundError:  # a source tree that was never installed
            return "0.0.0"
    raise AttributeError(name)

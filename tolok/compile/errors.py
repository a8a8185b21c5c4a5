"""The compile layer's error, light to import (no Ibis)."""

from __future__ import annotations

from tolok.spec.formula import Node


class CompileError(ValueError):
    """A formula that passed the spec's checks but cannot run against this table."""

    def __init__(self, message: str, node: Node | None = None, path: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.node = node
        self.path = path  # where in the spec, e.g. ("datasets", "orders", "measures", "x")

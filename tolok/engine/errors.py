"""Errors about the data that people can act on; light to import."""

from __future__ import annotations

from tolok.spec.problems import Location


class WarehouseError(Exception):
    """Something about the data people can act on: which setting, file or line to look at."""

    def __init__(self, message: str, where: Location | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

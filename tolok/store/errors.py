"""The store's error, light to import."""

from __future__ import annotations


class StoreError(Exception):
    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

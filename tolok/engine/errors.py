"""Errors about the data that people can act on; light to import."""

from __future__ import annotations

from tolok.spec.problems import Location, Text


class WarehouseError(Exception):
    """Something about the data people can act on: which setting, file or line to look at.

    The message and the hint are English text (`message`, `hint`: logs, the JSON API), or
    `say(…)` texts, kept as `said` and `hinted` for the terminal to word in its reader's
    language; a plain message is said again from the terminal's table of known sentences."""

    def __init__(
        self, message: str | Text, where: Location | None = None, hint: str | Text | None = None
    ):
        super().__init__(str(message))
        self.message = str(message)
        self.where = where
        self.hint = None if hint is None else str(hint)
        self.said = message if isinstance(message, Text) else None
        self.hinted = hint if isinstance(hint, Text) else None

"""What every spec model shares: the frozen base, the blame error and the closed sets that
the sharing part of the language (`alerts:`, `channels:`, `schedules:`) needs too."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from tolok.spec.problems import Text


class SaidError(ValueError):
    """A validator's complaint as a `say(…)` text, so that it is shown in the reader's
    language (pydantic keeps the exception; the loader reads `text` and `hint` back)."""

    def __init__(self, text: Text | str, hint: Text | None = None) -> None:
        self.text = text if isinstance(text, Text) else Text.plain(text)
        self.hint = hint
        super().__init__(str(self.text))


class BlameError(SaidError):
    """A model-level check that knows which key to blame, so the error points there."""

    def __init__(self, key: str, message: Text | str, hint: Text | None = None) -> None:
        super().__init__(message, hint)
        self.key = key


class Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Locale(StrEnum):
    en = "en"
    id = "id"


class Weekday(StrEnum):
    monday = "monday"
    tuesday = "tuesday"
    wednesday = "wednesday"
    thursday = "thursday"
    friday = "friday"
    saturday = "saturday"
    sunday = "sunday"

"""What every spec model shares: the frozen base, the blame error and the closed sets that
the sharing part of the language (`alerts:`, `channels:`, `schedules:`) needs too."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class BlameError(ValueError):
    """A model-level check that knows which key to blame, so the error points there."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
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

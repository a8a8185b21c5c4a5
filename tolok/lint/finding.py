"""What a lint rule reports, and the facts about data and history it may use."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from tolok.spec.problems import Location


class Level(StrEnum):
    """How much a finding matters; `error` only when a rule is promoted (`--strict`)."""

    error = "error"
    warning = "warning"
    note = "note"


@dataclass(frozen=True)
class Say:
    """The same sentence in each language tolok speaks."""

    en: str
    id: str

    def __call__(self, locale: str) -> str:
        return self.id if locale == "id" else self.en


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    concern: str  # aligned, actionable, realistic, measurable, clear, focused, correct, fresh
    level: Level
    summary: Say


@dataclass(frozen=True)
class Finding:
    rule: Rule
    message: Say
    fix: Say
    where: Location
    subject: str  # "kpi:cac", "goal:growth", "dataset:orders", "project"
    level: Level = Level.warning


@dataclass(frozen=True)
class KpiFacts:
    """What the store knows of a KPI: its closed periods' values, oldest first, the target
    ahead (the open period's or the next one's) and how its last closed period stands."""

    values: tuple[float, ...] = ()
    target_ahead: float | None = None
    standing: str | None = None  # on_track, at_risk, off_track, no_target, no_data


@dataclass(frozen=True)
class Facts:
    """Facts from outside the spec; a rule that needs a missing fact stays silent."""

    today: dt.date = field(default_factory=dt.date.today)
    kpis: dict[str, KpiFacts] = field(default_factory=dict)
    last_day: dict[str, dt.date | None] = field(default_factory=dict)
    """Per dataset, the day of its newest row (None: no rows)."""

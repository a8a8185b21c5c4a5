"""The shapes of the API's answers and requests (they make the OpenAPI document)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
    next: str | None = Field(None, description="The URL of the next page, if any.")


class ErrorDetail(BaseModel):
    status: int
    code: str
    message: str
    field: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class KpiCard(BaseModel):
    name: str
    title: str
    description: str | None
    unit: str
    direction: str
    grain: str
    owner: str | None
    goal: str | None
    level: str | None
    function: str | None
    indicator: str | None
    period: str | None = Field(None, description="The last closed period.")
    value: float | None
    target: float | None
    attainment: float | None
    status: str


class ForecastPoint(BaseModel):
    period: str
    mean: float
    low: float
    high: float
    level: int


class KpiDetail(KpiCard):
    formula: str
    definition: dict[str, Any]
    forecast: list[ForecastPoint]


class SeriesPoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: str
    start: str
    slice: dict[str, Any] | None = None
    value: float | None
    compare: float | None = None
    change: float | None = None
    target: float | None = None
    status: str | None = None
    anomaly: dict[str, float] | None = None


class Series(BaseModel):
    kpi: str
    title: str | None
    unit: str
    currency: str | None
    grain: str
    by: list[str]
    compare: str | None
    points: list[SeriesPoint]
    computed_at: str | None
    as_reported: bool


class Goal(BaseModel):
    name: str
    title: str
    progress: float | None
    status: str
    driver: str | None
    kpis: list[str]
    children: list[Goal]


class AnnotationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    day: dt.date
    text: str = Field(min_length=1, max_length=2000)
    kpis: list[str] = Field(min_length=1)


class Annotation(BaseModel):
    id: int
    day: dt.date
    text: str
    kpis: list[str]
    author: str
    created_at: dt.datetime


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=5000)
    period: str | None = Field(None, description="The period it is about: 2026-03, 2026-Q1 …")


class Comment(BaseModel):
    id: int
    kpi: str
    period: dt.date | None
    text: str
    author: str
    created_at: dt.datetime


class ValueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    measure: str
    period: str
    value: float
    by: dict[str, str] = Field(default_factory=dict)


class ValueOut(BaseModel):
    measure: str
    grain: str
    period: dt.date
    slice: dict[str, str]
    value: float


class Entered(BaseModel):
    entered: int
    edited: int


class TargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: str
    value: float
    by: dict[str, str] = Field(default_factory=dict)


class TargetSet(BaseModel):
    kpi: str
    period: str
    value: float
    before: float | None


class RowProblemOut(BaseModel):
    row: int
    reason: str


class Ingested(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    repeat: bool = Field(description="This very body (or Idempotency-Key) came before.")
    problems: list[RowProblemOut]
    refresh: Literal["scheduled", "none"]


class AuditOut(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    action: str
    subject: str
    before: Any
    after: Any


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] = Field(min_length=1, description="read, write, ingest:DATASET")


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="Shown this once; keep it secret.")


class ShareIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["kpi", "goal", "board"]
    target: str = ""
    expires_at: dt.datetime | None = None


class ShareOut(BaseModel):
    id: int
    kind: str
    target: str
    prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


class ShareCreated(ShareOut):
    url: str = Field(description="Shown this once: whoever has it can read what it names.")


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320)
    name: str = Field("", max_length=200)
    role: Literal["viewer", "editor", "admin"] = "viewer"


class UserOut(BaseModel):
    email: str
    name: str
    role: str
    disabled: bool
    created_at: dt.datetime


class UserCreated(UserOut):
    password: str = Field(description="Shown this once.")


class Me(BaseModel):
    email: str
    role: str
    scopes: list[str] | None
    teams: list[str]
    csrf: str | None = Field(
        None, description="A browser session's CSRF token: send it as X-CSRF-Token."
    )


class Health(BaseModel):
    status: str
    checks: dict[str, str] = Field(default_factory=dict)

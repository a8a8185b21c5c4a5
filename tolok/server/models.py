"""The shapes of the API's answers and requests (they make the OpenAPI document)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError

from tolok.display import ALLOWED, LARGEST, within_range

T = TypeVar("T")


def _typed(value: float) -> float:
    """A number a person sends: finite and written in full on every page (`LARGEST`)."""
    if not within_range(value):
        raise PydanticCustomError(
            "number_range", "must be " + ALLOWED, {"minimum": -LARGEST, "maximum": LARGEST}
        )
    return value


TypedNumber = Annotated[
    float,
    Field(
        strict=True,  # true and false are not numbers, nor is "12"
        json_schema_extra={"minimum": -LARGEST, "maximum": LARGEST},
        description=ALLOWED[0].upper() + ALLOWED[1:] + ".",
    ),
    AfterValidator(_typed),
]


YEAR = "(19|20|21)[0-9]{2}"  # 1900-2199, the years tolok shows
PERIOD = (rf"^(FY{YEAR}(-Q[1-4])?|{YEAR}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?"
          r"|-W(0[1-9]|[1-4][0-9]|5[0-3])|-Q[1-4])?)$")  # fmt: skip
"""A period label (`2026`, `2026-Q1`, `2026-03`, `2026-W09`, `2026-03-15`, `FY2026-Q2`), for
the API's description; what the calendar refuses beyond it (the 30th of February, a grain
the KPI has not) is a 400 that says why."""
LABEL: JsonDict = {"pattern": PERIOD}


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
    attention: Literal["off_track", "at_risk", "heading_off_track", "heading_at_risk"] | None = (
        Field(
            None,
            description="Why the KPI needs attention, as the board groups it: its last judged "
            "period off track or at risk, else the period under way heading off track or at "
            "risk; null when it needs none.",
        )
    )
    attention_rank: int = Field(
        description="Where the board puts the KPI, the most pressing first: 0 off track, "
        "1 at risk, 2 heading off track, 3 heading at risk, 4 on track, 5 no target, 6 no data."
    )


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
    state: Literal["closed", "open", "not_final", "partial"] | None = None
    open: bool = False
    provisional: bool = False  # not final: a conversion window or cohort still running
    partial: bool = False
    anomaly: dict[str, float] | None = None
    elapsed: float | None = None  # the open period's share gone by, and what it heads for
    heading: str | None = None
    target_so_far: float | None = None
    projected: float | None = None
    final_on: str | None = None


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
    as_of_refreshes: bool = False


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
    period: str | None = Field(None, description="The period it is about: 2026-03, 2026-Q1 …",
                               json_schema_extra=LABEL)  # fmt: skip


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
    period: str = Field(json_schema_extra=LABEL)
    value: TypedNumber
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

    period: str = Field(json_schema_extra=LABEL)
    value: TypedNumber
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
    embed: Literal["card", "chart", "board"] | None = Field(
        None,
        description="An embed for another site's <iframe> instead of a page: a KPI's `card` "
        "or `chart` (kind kpi), or the `board` (kind board).",
    )


class ShareOut(BaseModel):
    id: int
    kind: str
    target: str
    prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    embed: str | None = Field(None, description="card, chart or board: an embed; null: a page.")


class ShareCreated(ShareOut):
    url: str = Field(description="Shown this once: whoever has it can read what it names.")
    iframe: str | None = Field(
        None, description="An embed's <iframe> element, ready to paste into a page."
    )
    origins: list[str] | None = Field(
        None,
        description="The sites that may frame an embed now (tolok.yaml `embed: origins`); "
        "an empty list: none yet.",
    )


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


# --- definitions (datasets, goals, KPIs) written to the project's YAML ----------------------

DEFINITION_NAME = r"^[A-Za-z][A-Za-z0-9_-]{0,99}$"
Fingerprints = Annotated[
    dict[str, str] | None,
    Field(
        description="The `fingerprints` of the definition as read (file → sha256): a file "
        "changed since then is a 409 with both versions. Without them, no check."
    ),
]


def _shallow(value: dict[str, Any]) -> dict[str, Any]:
    """A definition nests a few levels (a dataset's measures' keys): 10 are plenty."""

    def depth(node: Any) -> int:
        if isinstance(node, dict):
            return 1 + max((depth(v) for v in node.values()), default=0)
        if isinstance(node, list):
            return 1 + max((depth(v) for v in node), default=0)
        return 0

    if depth(value) > 10:
        raise PydanticCustomError("too_deep", "nests more than 10 levels of mappings and lists")
    return value


class DefinitionIn(BaseModel):
    """A definition as the YAML would hold it (the keys of a dataset, goal or KPI)."""

    model_config = ConfigDict(extra="forbid")

    definition: Annotated[dict[str, Any], AfterValidator(_shallow)] = Field(
        description="The whole definition, keys as in YAML."
    )
    reason: str | None = Field(
        None,
        max_length=2000,
        description="Why: needed when the change alters computed values (a new definition "
        "version); written as the KPI's `changelog`.",
    )
    fingerprints: Fingerprints = None


class NewDefinitionIn(DefinitionIn):
    name: str = Field(pattern=DEFINITION_NAME, description="The new definition's name.")


class RetireIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(None, max_length=2000)
    fingerprints: Fingerprints = None


class DefinitionOut(BaseModel):
    section: Literal["datasets", "goals", "kpis"]
    name: str
    definition: dict[str, Any]
    file: str = Field(description="The project file that holds it.")
    line: int
    fingerprints: dict[str, str] = Field(description="Send these back with a change.")
    editable: bool = Field(description="False when definitions are read-only here.")


class DefinitionWritten(BaseModel):
    section: Literal["datasets", "goals", "kpis"]
    name: str
    action: Literal["created", "changed", "retired", "deleted", "unchanged"]
    definition: dict[str, Any] | None
    diffs: dict[str, str] = Field(description="Per file, the unified diff written.")
    fingerprints: dict[str, str]


class DefinitionProblem(BaseModel):
    code: str = Field(description="TLK0xx, as `tolok validate` says it.")
    message: str
    hint: str | None = None
    path: list[str | int] = Field(description='What it is about: ["kpis", "cac", "formula"].')
    file: str
    line: int
    column: int


class DefinitionErrorDetail(ErrorDetail):
    problems: list[DefinitionProblem] = Field(default_factory=list)
    file: str | None = Field(None, description="A conflict: the file changed meanwhile.")
    current: str | None = Field(None, description="A conflict: the file as it is now.")
    proposed: str | None = Field(None, description="A conflict: the file as the change makes it.")


class DefinitionErrorBody(BaseModel):
    error: DefinitionErrorDetail

"""The KPI spec language as frozen pydantic models: what a `tolok.yaml` may say.

Class names are the YAML nouns. Every model forbids unknown keys so that a typo is an
error with a suggestion rather than a silently ignored line.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from enum import StrEnum
from importlib.util import find_spec
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from tolok.spec.base import BlameError as BlameError
from tolok.spec.base import Locale as Locale
from tolok.spec.base import SaidError
from tolok.spec.base import Spec as Spec
from tolok.spec.base import Weekday as Weekday
from tolok.spec.formula import unquote_column
from tolok.spec.problems import say
from tolok.spec.sharing import (
    Alert,
    Channel,
    Email,
    EmailAddress,
    EnvName,
    QuietHours,
    Schedule,
    WebAddress,
)


class Month(StrEnum):
    january = "january"
    february = "february"
    march = "march"
    april = "april"
    may = "may"
    june = "june"
    july = "july"
    august = "august"
    september = "september"
    october = "october"
    november = "november"
    december = "december"


class FiscalYearLabel(StrEnum):
    """Which calendar year names a fiscal year: the one it ends in (FY2026 = Apr 2025-Mar 2026)."""

    end = "end"
    start = "start"


class Agg(StrEnum):
    sum = "sum"
    count = "count"  # type: ignore[assignment]  # shadows str.count, on purpose
    count_distinct = "count_distinct"
    avg = "avg"
    min = "min"
    max = "max"
    median = "median"
    percentile = "percentile"
    sum_boolean = "sum_boolean"
    conversion = "conversion"


class OverTime(StrEnum):
    """How a measure behaves over time: a flow adds up (`sum`), a level (MRR, headcount,
    a balance) is read at the end (`last`) or start (`first`) of a period, or averaged
    over its days (`average`)."""

    sum = "sum"
    last = "last"
    first = "first"
    average = "average"


class ConversionAs(StrEnum):
    count = "count"  # type: ignore[assignment]  # shadows str.count, on purpose
    rate = "rate"


class ColumnType(StrEnum):
    string = "string"
    integer = "integer"
    number = "number"
    boolean = "boolean"
    date = "date"
    timestamp = "timestamp"


class Unit(StrEnum):
    number = "number"
    percent = "percent"
    currency = "currency"
    duration = "duration"
    count = "count"  # type: ignore[assignment]  # shadows str.count, on purpose


class Direction(StrEnum):
    up = "up"
    down = "down"
    band = "band"


class Grain(StrEnum):
    day = "day"
    week = "week"
    month = "month"
    quarter = "quarter"
    year = "year"
    fiscal_quarter = "fiscal_quarter"
    fiscal_year = "fiscal_year"


class Level(StrEnum):
    strategic = "strategic"
    operational = "operational"
    functional = "functional"


class Function(StrEnum):
    marketing = "marketing"
    sales = "sales"
    service = "service"
    website = "website"
    finance = "finance"
    hr = "hr"
    it = "it"
    operations = "operations"
    product = "product"


class Indicator(StrEnum):
    leading = "leading"
    lagging = "lagging"


class TargetSplit(StrEnum):
    days = "days"
    seasonal = "seasonal"


class Status(StrEnum):
    draft = "draft"
    active = "active"
    retired = "retired"


class Vs(StrEnum):
    last_year = "last_year"
    previous = "previous"


_PERIOD = re.compile(
    r"^(?:\d{4}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01]))?|-W(?:0[1-9]|[1-4]\d|5[0-3])"
    r"|-Q[1-4])?|FY\d{4}(?:-Q[1-4])?)$"
)
CONVERSION_EXAMPLE = "{agg: conversion, entity: lead_id, to: deals, within: 30 days}"
PERIOD_FORMS = "2026, 2026-Q1, 2026-03, 2026-W09, 2026-03-15, FY2026 or FY2026-Q1"


def _period_text(value: Any) -> Any:
    """YAML reads `2026-03-15` as a date and `2026` as a number; both name periods."""
    if isinstance(value, dt.date):
        return value.isoformat()[:10]
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _check_period(value: str) -> str:
    if not _PERIOD.match(value):
        raise SaidError(
            say("'{value}' is not a period; write it as {forms}", value=value, forms=PERIOD_FORMS)
        )
    return value


Period = Annotated[
    str,
    BeforeValidator(_period_text),
    AfterValidator(_check_period),
    Field(examples=["2026-03", "2026-Q1", "FY2026"]),
]
Slice = dict[str, str | int | float | bool]


def _number_as_text(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


Formula = Annotated[str, BeforeValidator(_number_as_text)]
ColumnName = Annotated[str, AfterValidator(unquote_column)]
"""A column named in a field that holds only a name; backticks there are optional."""
"""A formula as written; YAML reads `formula: 100` as a number, which is a formula too."""


class _TargetForm(Spec):
    slice: Slice | None = Field(
        None, description="Dimension values this target is for, e.g. {region: Bali}."
    )


class ConstantTarget(_TargetForm):
    """One value from a period on: `{value: 0.03, from: 2026-01}`."""

    value: float
    from_: Period | None = Field(None, alias="from")
    until: Period | None = None


class TargetPoint(_TargetForm):
    """One period's value, in a list of them: `[{period: 2026-01, value: 100}, ...]`."""

    period: Period
    value: float


class GrowthTarget(_TargetForm):
    """A rule: `{growth: 0.2, vs: last_year}` is 20% above the same period a year before."""

    growth: float
    vs: Vs = Vs.last_year
    from_: Period | None = Field(None, alias="from")


class Ramp(Spec):
    to: float = Field(description="The value to reach.")
    by: Period = Field(description="The period by which it is reached.")
    baseline: float | None = Field(
        None, description="Where the ramp starts; the KPI's value before `from` when left out."
    )


class RampTarget(_TargetForm):
    """A straight line from a baseline to a goal value by a deadline."""

    ramp: Ramp
    from_: Period | None = Field(None, alias="from")


def _target_form(value: Any) -> str | None:
    """Which of the target forms a mapping (or an already built target) is."""
    if isinstance(value, BaseModel):
        return _FORM_TAGS.get(type(value))
    if isinstance(value, dict):
        for key, tag in (("ramp", "ramp"), ("growth", "growth"), ("period", "point")):
            if key in value:
                return tag
        return "constant"
    return None


TargetForm = Annotated[
    Annotated[ConstantTarget, Tag("constant")]
    | Annotated[TargetPoint, Tag("point")]
    | Annotated[GrowthTarget, Tag("growth")]
    | Annotated[RampTarget, Tag("ramp")],
    Discriminator(
        _target_form,
        custom_error_type="target_form",
        custom_error_message="a target is a mapping such as {value: 0.03, from: 2026-01}",
    ),
]


def _as_target_list(value: Any) -> Any:
    return [value] if isinstance(value, dict) else value


Target = Annotated[
    list[TargetForm],
    BeforeValidator(_as_target_list, json_schema_input_type=TargetForm | list[TargetForm]),
]
_FORM_TAGS: dict[type, str] = {
    ConstantTarget: "constant",
    TargetPoint: "point",
    GrowthTarget: "growth",
    RampTarget: "ramp",
}


class Thresholds(Spec):
    """Share of the target reached below which a KPI is at risk or off track."""

    at_risk: float = Field(0.95, gt=0)
    off_track: float = Field(0.85, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.off_track > self.at_risk:
            raise BlameError("off_track", say("off_track must not be above at_risk"))
        return self


@functools.cache
def _listed_zones() -> frozenset[str]:
    """The zones the tzdata package lists (one file), all of them in `available_timezones`:
    a project's zone is nearly always one, found without that function's walk over every
    file of the system's time zone database (10 ms a command)."""
    package = find_spec("tzdata")
    if package is None or not package.submodule_search_locations:
        return frozenset()
    try:
        listed = (Path(package.submodule_search_locations[0]) / "zones").read_text("utf-8")
    except OSError:
        return frozenset()
    return frozenset(listed.split()) - {"posixrules"}  # left out of available_timezones too


@functools.cache
def _all_zones() -> frozenset[str]:
    return frozenset(available_timezones()) | {"UTC"}


def _check_zone(value: str) -> str:
    if value not in _listed_zones() and value not in _all_zones():
        raise SaidError(
            say("'{value}' is not a time zone name such as Asia/Jakarta or UTC", value=value)
        )
    return value


_WITHIN = re.compile(r"^\s*(\d+)\s*(minute|hour|day|week)s?\s*$")


def _within(value: Any) -> Any:
    if isinstance(value, str):
        match = _WITHIN.match(value)
        if not match:
            raise SaidError(
                say(
                    "'{value}' is not a duration; write it as 30 days, 2 weeks, 48 hours",
                    value=value,
                )
            )
        amount, unit = int(match.group(1)), match.group(2)
        return dt.timedelta(**{f"{unit}s": amount})
    return value


Within = Annotated[
    dt.timedelta,
    BeforeValidator(_within, json_schema_input_type=str),
    Field(examples=["30 days"]),
]


class Measure(Spec):
    """An aggregation over a dataset's rows: `{agg: sum, expr: amount, where: "paid"}`."""

    agg: Agg
    expr: Formula | None = Field(
        None, description="Column or expression to aggregate; defaults to the measure's name."
    )
    where: Formula | None = Field(None, description="Only rows for which this condition holds.")
    p: float | None = Field(None, gt=0, lt=1, description="Quantile for `agg: percentile`.")
    entity: ColumnName | None = Field(
        None, description="Conversion: the column identifying what converts (lead_id)."
    )
    to: str | None = Field(None, description="Conversion: the dataset of the later event.")
    to_entity: ColumnName | None = Field(
        None, description="Conversion: the entity column there, when named differently."
    )
    to_where: Formula | None = Field(
        None, description="Conversion: which rows of `to` count, e.g. stage == 'won'."
    )
    within: Within | None = Field(
        None, description="Conversion: how long after the first event, e.g. 30 days."
    )
    as_: ConversionAs = Field(
        ConversionAs.count,
        alias="as",
        description="Conversion: how many converted (count) or which share of them (rate).",
    )
    over_time: OverTime = Field(
        OverTime.sum,
        description="A flow adds up over time (sum, the default); a level such as MRR or "
        "headcount is the value on the last (or first) day with data in each period, or "
        "the average over its days with data.",
    )
    description: str | None = None

    @model_validator(mode="after")
    def _fields_of_agg(self) -> Measure:
        if self.over_time is not OverTime.sum and self.agg not in (Agg.sum, Agg.count):
            raise BlameError(
                "over_time",
                say(
                    "over_time '{value}' reads a level: it works with agg sum or count "
                    "(e.g. {example})",
                    value=self.over_time.value,
                    example="{agg: sum, expr: end_mrr, over_time: last}",
                ),
            )
        if self.agg is Agg.percentile and self.p is None:
            raise BlameError(
                "agg", say("agg 'percentile' needs `p`, the quantile between 0 and 1 (e.g. 0.9)")
            )
        if self.agg is not Agg.percentile and self.p is not None:
            raise BlameError("p", say("`p` only applies to agg 'percentile'"))
        conversion = ("entity", "to", "within")
        if self.agg is Agg.conversion:
            for key in conversion:
                if getattr(self, key) is None:
                    raise BlameError(
                        "agg",
                        say(
                            "agg 'conversion' needs `entity`, `to` and `within`, e.g. {example}",
                            example=CONVERSION_EXAMPLE,
                        ),
                    )
            if self.expr is not None:
                raise BlameError("expr", say("a conversion counts entities; `expr` does not apply"))
        else:
            for key in (*conversion, "to_entity", "to_where"):
                if getattr(self, key) is not None:
                    raise BlameError(key, say("`{key}` only applies to agg 'conversion'", key=key))
        return self


class SqlSource(Spec):
    """A query the warehouse runs, for what the language cannot say: `{sql: "select …"}`."""

    sql: str = Field(
        min_length=1,
        description="One query (SELECT, WITH … SELECT, UNION …) in the warehouse's own SQL, "
        "run as a subquery the measures build on. It is read whole on every refresh and "
        "lint cannot see into it: prefer a table with `where`, `expr` or a dimension when "
        "they can say it.",
    )

    @field_validator("sql", mode="before")
    @classmethod
    def _not_blank(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            raise SaidError(say("`sql` is empty; write one query, e.g. select … from …"))
        return value


def _source_form(value: Any) -> str:
    """A mapping is a query; anything else is read as text (a bad one says so)."""
    return "query" if isinstance(value, dict | SqlSource) else "source"


Source = Annotated[
    # The tags show in error paths: "source" so that a non-text value reads "`source` must
    # be text"; "query" is no key of the mapping, so the path skips it to the key at fault.
    Annotated[str, Tag("source")] | Annotated[SqlSource, Tag("query")],
    Discriminator(_source_form),
]


class Dataset(Spec):
    """Rows of one kind (orders, sessions, tickets) and the measures computed over them."""

    source: Source = Field(
        description="`file:path/to/*.csv`, a warehouse table (`schema.table`), `manual`, or "
        'a query the warehouse runs: `{sql: "select …"}`.'
    )
    time: ColumnName | None = Field(
        None,
        description="Column with each row's timestamp or date; `none` for a table that holds "
        "the current state (a snapshot: its KPIs are kept as of each refresh). A lookup "
        "(a dataset other datasets refer to, without measures) needs none.",
    )
    snapshot: SkipJsonSchema[bool] = Field(False, exclude=True)
    """Set by `time: none`: rows are the current state, dated by the refresh."""
    dimensions: list[ColumnName] = Field(default_factory=list)
    columns: dict[ColumnName, ColumnType] = Field(
        default_factory=dict, description="Declared column types, checked on ingest."
    )
    key: list[ColumnName] = Field(default_factory=list, description="Columns that identify a row.")
    refs: dict[ColumnName, str] = Field(
        default_factory=dict,
        description="Lookup datasets this one refers to, by the column holding their key: "
        "`{customer_id: customers}` reads customers' dimensions as `customers.segment`.",
    )
    timezone: str | None = Field(
        None,
        description="Zone of timestamps stored without one; the project's zone when left out.",
    )
    measures: dict[str, Measure] = Field(default_factory=dict)
    description: str | None = None
    lint: Lint | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else _check_zone(value)

    @property
    def is_manual(self) -> bool:
        return isinstance(self.source, str) and self.source.strip() == "manual"

    @property
    def file_pattern(self) -> str | None:
        if not isinstance(self.source, str):
            return None
        source = self.source.strip()
        return source[len("file:") :].strip() if source.startswith("file:") else None

    @property
    def sql(self) -> str | None:
        """The query of a `source: {sql: …}` dataset, as written."""
        return self.source.sql if isinstance(self.source, SqlSource) else None

    @property
    def table(self) -> str | None:
        """The warehouse table read (`schema.table`); None for files, typed-in values and
        queries."""
        if not isinstance(self.source, str) or self.is_manual or self.file_pattern is not None:
            return None
        return self.source.strip()

    @model_validator(mode="before")
    @classmethod
    def _time_none(cls, data: Any) -> Any:
        """`time: none` marks a snapshot; it is not a column."""
        if isinstance(data, dict) and str(data.get("time", "")).strip().lower() == "none":
            return {**data, "time": None, "snapshot": True}
        return data

    @model_validator(mode="after")
    def _needs_time(self) -> Dataset:
        if isinstance(self.source, str) and not self.source.strip():
            raise BlameError(
                "source", say("`source` is empty; use file:PATH, a table name, or manual")
            )
        if self.time is None and not self.is_manual and not self.snapshot and self.measures:
            raise BlameError(
                "source",
                say(
                    "a dataset with measures read from a file or table needs `time`, its date "
                    "column, or `time: none` for a table that holds the current state"
                ),
            )
        if self.snapshot and self.is_manual:
            raise BlameError(
                "time",
                say("a manual dataset takes values per period; `time: none` does not apply"),
            )
        for column, target in self.refs.items():
            if not target.strip():
                raise BlameError("refs", say("`refs: {column}` names no dataset", column=column))
        return self

    def over_time(self, measure: str) -> OverTime:
        """How a measure of this dataset behaves over time: as it says, except in a
        snapshot, whose every measure is a level read as of its last refresh in a period."""
        return OverTime.last if self.snapshot else self.measures[measure].over_time

    @property
    def is_lookup(self) -> bool:
        """A table other datasets refer to, with no time and no measures."""
        return self.time is None and not self.snapshot and not self.is_manual


Reason = Annotated[str, Field(min_length=3, description="Why the rule does not apply here.")]


class Lint(Spec):
    """Lint rules switched off for one definition, each with its reason."""

    off: dict[str, Reason] = Field(
        default_factory=dict,
        description="Rule code or name → reason, e.g. {TLK103: 'the whole team owns it'}.",
    )


class ProjectLint(Lint):
    """Lint settings for the whole project."""

    errors: list[str] = Field(
        default_factory=list, description="Rules whose findings fail `tolok lint` (exit 1)."
    )
    max_kpis_per_goal: int = Field(7, ge=1, description="More KPIs on one goal blur its focus.")
    max_kpis_per_owner: int = Field(10, ge=1, description="More KPIs for one owner blur focus.")


class Goal(Spec):
    title: str
    description: str | None = None
    level: Level | None = None
    owner: str | None = None
    parent: str | None = Field(None, description="The goal this one contributes to.")
    weight: float | None = Field(None, gt=0, description="Weight in the parent's roll-up.")
    lint: Lint | None = None


def _as_dimensions(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Breakdown = Annotated[
    list[ColumnName],
    BeforeValidator(_as_dimensions, json_schema_input_type=str | list[str]),
]
"""One dimension, or several together."""


class KPI(Spec):
    title: str | None = None
    description: str | None = None
    formula: Formula
    unit: Unit = Unit.number
    direction: Direction = Direction.up
    tolerance: float | None = Field(
        None, gt=0, description="For direction band: allowed distance from target, as a share."
    )
    grain: Grain = Grain.month
    level: Level | None = None
    function: Function | None = None
    indicator: Indicator | None = None
    owner: str | None = None
    goal: str | None = None
    weight: float | None = Field(None, gt=0, description="Weight in the goal's roll-up.")
    target: Target | None = None
    thresholds: Thresholds = Field(default_factory=Thresholds)
    target_split: TargetSplit = Field(
        TargetSplit.days,
        description="How a target splits to finer periods and pro-rates inside the open "
        "one: evenly by days, or by the KPI's own weekday and month rhythm from history.",
    )
    final_after: Within | None = Field(
        None,
        description="How long after a period ends its value may still change (rows that "
        "arrive late, a cohort still converting), e.g. 3 days; until then the period is "
        "provisional: no status, anomaly or alert. A conversion measure's `within` counts "
        "already.",
    )
    actions: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    breakdowns: list[Breakdown] = Field(
        default_factory=list,
        description="Dimensions a refresh also computes the KPI by: [Region, [Region, Channel]].",
    )
    status: Status = Status.active
    changelog: str | None = Field(None, description="Why the definition last changed.")
    lint: Lint | None = None

    @model_validator(mode="after")
    def _band(self) -> KPI:
        if self.direction is Direction.band and self.tolerance is None:
            raise BlameError(
                "direction",
                say("direction 'band' needs `tolerance`, e.g. 0.05 for ±5% of target"),
            )
        if self.direction is not Direction.band and self.tolerance is not None:
            raise BlameError("tolerance", say("`tolerance` only applies to direction 'band'"))
        return self


_ORIGIN = re.compile(
    r"^https?://(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*"
    r"|\[[0-9a-f:.]+\])(:(?P<port>\d{1,5}))?/?$"
)


def _origin(value: str) -> str:
    """A site's origin as a CSP `frame-ancestors` source names it: scheme, host, port.

    >>> _origin("https://Intranet.Example/"), _origin("http://*.corp.example:8080")
    ('https://intranet.example', 'http://*.corp.example:8080')
    """
    written = value.strip().lower()
    match = _ORIGIN.match(written)
    if match is None or int(match.group("port") or 1) not in range(1, 65536):
        raise SaidError(
            say("'{value}' is not the origin of a site such as https://intranet.example",
                value=value),
            say("write its scheme, host and port only, no path; `*.` may start the host to "
                "allow every subdomain: https://*.example.com"),
        )  # fmt: skip
    return written.removesuffix("/")


Origin = Annotated[str, AfterValidator(_origin), Field(examples=["https://intranet.example"])]


class Embed(Spec):
    """Embeds of KPIs and the board (`/e/…` links) in other sites' pages."""

    origins: list[Origin] = Field(
        default_factory=list,
        description="The sites whose pages may show an embed in an <iframe> (the CSP "
        "frame-ancestors of /e/ pages); with none, no site may.",
    )


class Definitions(Spec):
    """Whether the browser and the API may change definitions (by writing this YAML)."""

    editable: bool = Field(
        True,
        description="false: definitions change only in the YAML files (for teams that review "
        "them in git); the builder and the definitions API refuse to write.",
    )


class SsoRole(StrEnum):
    viewer = "viewer"
    editor = "editor"
    admin = "admin"


_DOMAIN = re.compile(r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")


def _domain(value: str) -> str:
    written = value.strip().lower().removeprefix("@")
    if not _DOMAIN.match(written):
        raise SaidError(say("'{value}' is not an e-mail domain such as tokomaju.id", value=value))
    return written


class Sso(Spec):
    """Single sign-on with the company's OpenID provider (README, "Single sign-on")."""

    issuer: WebAddress = Field(description="The provider's issuer, e.g. https://login.example.")
    client_id: str = Field(min_length=1)
    client_secret_env: EnvName = Field(
        "TOLOK_SSO_CLIENT_SECRET", description="The environment variable holding the secret."
    )
    name: str | None = Field(None, description="The provider as the sign-in button names it.")
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"])
    roles_claim: str | None = Field("roles", description="The claim listing the user's roles.")
    role_map: dict[str, SsoRole] = Field(
        default_factory=dict, description="A provider's role → tolok's (the highest applies)."
    )
    default_role: SsoRole | None = Field(
        SsoRole.viewer, description="The role of a user no mapped role names; null: refused."
    )
    teams_claim: str | None = Field(None, description="The claim listing the user's teams.")
    allowed_domains: list[Annotated[str, AfterValidator(_domain)]] = Field(
        default_factory=list, description="Only addresses of these domains; none: any domain."
    )
    local_passwords: bool = Field(True, description="false: only SSO, but `break_glass`.")
    break_glass: list[EmailAddress] = Field(
        default_factory=lambda: ["admin@localhost"],
        description="Accounts that may sign in with a password when local passwords are off.",
    )

    @field_validator("scopes")
    @classmethod
    def _openid(cls, value: list[str]) -> list[str]:
        if "openid" not in value:
            raise SaidError(say("the scopes of OpenID Connect sign-in must include 'openid'"))
        return value


class Settings(Spec):
    """Project-wide settings: the top of `tolok.yaml`."""

    name: str
    locale: Locale = Locale.en
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. IDR.")
    timezone: str = "UTC"
    week_start: Weekday = Weekday.monday
    fiscal_year_start: Month = Month.january
    fiscal_year_label: FiscalYearLabel = FiscalYearLabel.end
    warehouse: str = "duckdb:///warehouse.duckdb"
    store: str = "sqlite:///tolok.db"
    lint: ProjectLint = Field(default_factory=ProjectLint)
    data_dirs: list[str] = Field(
        default_factory=list,
        description="Folders outside the project that `file:` sources may read (relative to "
        "the project folder, or absolute); a relative path must otherwise stay inside it.",
    )
    url: str | None = Field(
        None, description="Where the board is served (https://kpi.example.com), for links."
    )
    email: Email | None = Field(None, description="The SMTP server for e-mail channels.")
    quiet_hours: QuietHours | None = Field(
        None, description="Hold alerts in these hours (an alert rule may set its own)."
    )
    embed: Embed = Field(
        default_factory=Embed, description="Embeds in other sites: `{origins: [https://…]}`."
    )
    definitions: Definitions = Field(
        default_factory=Definitions,
        description="`{editable: false}`: definitions change in YAML only, not in the app.",
    )
    sso: Sso | None = Field(None, description="Single sign-on with an OpenID provider.")
    spark: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description="Settings of the Spark session when the warehouse is Spark "
        "(`spark.executor.memory: 4g`); secrets go in TOLOK_SPARK_* environment variables.",
    )

    @field_validator("spark")
    @classmethod
    def _spark_settings(
        cls, value: dict[str, str | int | float | bool]
    ) -> dict[str, str | int | float | bool]:
        for key, setting in value.items():
            if not key.startswith("spark."):
                raise SaidError(
                    say(
                        "'{key}' is not a Spark setting: they start with 'spark.', e.g. "
                        "spark.executor.memory",
                        key=key,
                    )
                )
            if isinstance(setting, str) and not setting.strip():
                raise SaidError(say("the Spark setting '{key}' is empty", key=key))
        return value

    def spark_settings(self) -> dict[str, str]:
        """The `spark:` settings as Spark reads them: text, `true`/`false` for yes and no."""
        return {
            k: ("true" if v else "false") if isinstance(v, bool) else str(v)
            for k, v in self.spark.items()
        }

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return _check_zone(value)


class Project(Settings):
    """A whole project once every file is read: settings plus named definitions."""

    datasets: dict[str, Dataset] = Field(default_factory=dict)
    goals: dict[str, Goal] = Field(default_factory=dict)
    kpis: dict[str, KPI] = Field(default_factory=dict)
    channels: dict[str, Channel] = Field(default_factory=dict)
    alerts: dict[str, Alert] = Field(default_factory=dict)
    schedules: dict[str, Schedule] = Field(default_factory=dict)


SECTIONS: dict[str, type[Spec]] = {
    "datasets": Dataset,
    "goals": Goal,
    "kpis": KPI,
    "channels": Channel,
    "alerts": Alert,
    "schedules": Schedule,
}

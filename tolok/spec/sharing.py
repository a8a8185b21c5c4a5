"""The sharing part of the spec language: who hears about what, and when.

```yaml
url: https://kpi.tokomaju.id           # where the board is served, for links in messages
email: {host: smtp.tokomaju.id, user: tolok@tokomaju.id, sender: tolok@tokomaju.id}
quiet_hours: {from: "21:00", to: "07:00"}
channels:
  sales: {email: [dewi@tokomaju.id, budi@tokomaju.id]}
  sales-team: {team: sales}            # every enabled user of the team, each in their language
  chat: {webhook: https://hooks.slack.com/services/T0/B0/XX}
  ops: {webhook: https://ops.tokomaju.id/hooks/tolok, format: signed, secret_env: OPS_SECRET}
alerts:
  conversion-slips: {when: status, kpis: [conversion_rate], notify: [sales, owner]}
  revenue-drop: {when: change, kpis: [revenue], change: 0.2, min_volume: 50, volume: order_count}
schedules:
  morning: {do: digest, every: day, at: "08:00", to: [sales-team]}
  month-end: {do: report, every: month, on: 1, at: "07:00", format: pdf, to: [sales]}
```
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from tolok.spec.base import BlameError, Locale, SaidError, Spec, Weekday
from tolok.spec.problems import say

_EMAIL = re.compile(r"^[^@\s<>\"',;]+@([^@\s<>\"',;]+\.[^@\s<>\"',;]+|localhost)$")
"""An address with a domain, or one on this machine (`admin@localhost`, the account `tolok
serve` makes first: a local mail server delivers it)."""
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_MINUTE = re.compile(r"^:([0-5]\d)$")
_DURATION = re.compile(r"^\s*(\d+)\s*(minute|hour|day|week)s?\s*$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def is_email(text: str) -> bool:
    """Whether a recipient is an address (else it names a channel or `owner`).

    >>> [is_email(t) for t in ("dewi@tokomaju.id", "admin@localhost", "sales", "a@b")]
    [True, True, False, False]
    """
    return bool(_EMAIL.match(text.lower()))


def _email(value: str) -> str:
    if not is_email(value):
        raise SaidError(
            say("'{value}' is not an e-mail address such as dewi@tokomaju.id", value=value)
        )
    return value.lower()


def _clock(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24:
        return f"{value:02d}:00"  # `at: 8` means eight o'clock
    if isinstance(value, str) and not (_CLOCK.match(value) or _MINUTE.match(value)):
        raise SaidError(
            say("'{value}' is not a time of day; write it as \"08:00\" (24 hours)", value=value)
        )
    return value


def _duration(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("P"):
        return value  # ISO 8601 (P2D), as a rule made in the app is stored
    if isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise SaidError(
                say(
                    "'{value}' is not a duration; write it as 36 hours, 2 days, 1 week", value=value
                )
            )
        return dt.timedelta(**{f"{match.group(2)}s": int(match.group(1))})
    return value


def _env_name(value: str) -> str:
    if not _ENV.match(value):
        raise SaidError(
            say("'{value}' is not an environment variable name such as OPS_SECRET", value=value)
        )
    return value


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _url(value: str) -> str:
    if not re.match(r"^https?://[^\s/]+", value):
        raise SaidError(
            say("'{value}' is not a web address; write it as https://host/path", value=value)
        )
    return value


EmailAddress = Annotated[str, AfterValidator(_email)]
Clock = Annotated[str, BeforeValidator(_clock), Field(examples=["08:00"])]
Duration = Annotated[
    dt.timedelta, BeforeValidator(_duration, json_schema_input_type=str), Field(examples=["2 days"])
]
EnvName = Annotated[str, AfterValidator(_env_name)]
Names = Annotated[list[str], BeforeValidator(_one_or_many)]
WebAddress = Annotated[str, AfterValidator(_url)]


class EmailSecurity(StrEnum):
    starttls = "starttls"  # port 587: plain connection upgraded with STARTTLS
    ssl = "ssl"  # port 465: TLS from the first byte
    none = "none"  # a relay on the same machine or a test server


class Email(Spec):
    """How tolok sends e-mail: an SMTP server. The password is read from an environment
    variable, never from the YAML."""

    host: str
    port: int = Field(587, ge=1, le=65535)
    security: EmailSecurity = EmailSecurity.starttls
    user: str | None = Field(None, description="Sign in as this user (password from env).")
    password_env: EnvName = Field(
        "TOLOK_SMTP_PASSWORD", description="The environment variable holding the password."
    )
    sender: EmailAddress = Field(description="The From address.")
    sender_name: str = "tolok"
    timeout: float = Field(30, gt=0, description="Seconds to wait for the server.")


class QuietHours(Spec):
    """Alerts that arise in these hours (project time zone) are held until they end."""

    from_: Clock = Field(alias="from")
    to: Clock

    @model_validator(mode="after")
    def _clocks(self) -> QuietHours:
        for key, value in (("from", self.from_), ("to", self.to)):
            if not _CLOCK.match(value):
                raise BlameError(
                    key, say("'{value}' is not a time of day; write it as \"22:00\"", value=value)
                )
        return self


class WebhookFormat(StrEnum):
    slack = "slack"  # {"text": …, "blocks": […]}: Slack, Mattermost, Rocket.Chat, Discord /slack
    signed = "signed"  # tolok's own JSON, signed with HMAC-SHA256 in X-Tolok-Signature


class Channel(Spec):
    """Where messages go: e-mail addresses, a team of users, or a webhook."""

    email: list[EmailAddress] = Field(default_factory=list)
    team: str | None = Field(None, description="Every enabled user of this team.")
    webhook: WebAddress | None = None
    format: WebhookFormat = WebhookFormat.slack
    secret_env: EnvName | None = Field(
        None, description="The environment variable holding a signed webhook's secret."
    )
    locale: Locale | None = Field(
        None, description="The language of its messages (people's own setting comes first)."
    )
    description: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Channel:
        kinds = [k for k in ("email", "team", "webhook") if getattr(self, k)]
        if len(kinds) != 1:
            key = kinds[1] if len(kinds) > 1 else "email"
            raise BlameError(
                key, say("a channel is one of `email: [...]`, `team: …` or `webhook: …`")
            )
        given = self.model_fields_set
        if self.webhook is None:
            for key in ("format", "secret_env"):
                if key in given:
                    raise BlameError(key, say("`{key}` only applies to a webhook channel", key=key))
        elif self.format is WebhookFormat.signed and self.secret_env is None:
            raise BlameError("format", say("a signed webhook needs `secret_env: NAME_OF_VARIABLE`"))
        return self


class AlertWhen(StrEnum):
    status = "status"  # the status enters one of `statuses`
    threshold = "threshold"  # the value is above or below a number
    change = "change"  # moved more than `change` (a share) vs the period before
    anomaly = "anomaly"  # the last closed period is unusual for this KPI
    target_reached = "target_reached"  # celebrate
    stale = "stale"  # no new rows for longer than the KPI's grain (or `after`)


class Watched(StrEnum):
    at_risk = "at_risk"
    off_track = "off_track"


class ChangeDirection(StrEnum):
    worse = "worse"  # the KPI's bad direction
    better = "better"
    any = "any"


class Watch(StrEnum):
    closed = "closed"  # the last closed period
    open = "open"  # the period under way, as far as it has come


_ONLY = {
    AlertWhen.status: {"statuses"},
    AlertWhen.threshold: {"above", "below", "period"},
    AlertWhen.change: {"change", "direction", "min_volume", "volume"},
    AlertWhen.anomaly: set(),
    AlertWhen.target_reached: set(),
    AlertWhen.stale: {"after"},
}


class Selection(Spec):
    """Which KPIs: named ones, those of a goal (and its sub-goals), a tag or an owner. All
    given parts must hold; none given means every active KPI."""

    kpis: Names = Field(default_factory=list)
    goal: str | None = None
    tag: str | None = None
    owner: EmailAddress | None = None


class Alert(Selection):
    """A rule: when a KPI meets a condition, tell someone; once, until it resolves."""

    when: AlertWhen
    notify: Names = Field(
        min_length=1, description="Channel names, `owner` (the KPI's owner), or e-mail addresses."
    )
    statuses: list[Watched] = Field(default_factory=lambda: [Watched.at_risk, Watched.off_track])
    above: float | None = None
    below: float | None = None
    period: Watch = Watch.closed
    change: float | None = Field(None, gt=0, description="0.2 = a move of more than 20%.")
    direction: ChangeDirection = ChangeDirection.worse
    min_volume: float | None = Field(
        None, ge=0, description="Ignore a change when `volume` in that period is below this."
    )
    volume: str | None = Field(
        None, description="A measure or KPI counting the sample (default: the denominator)."
    )
    after: Duration | None = Field(
        None, description="Stale after this long without new rows (whole days)."
    )
    quiet_hours: QuietHours | None = None
    resolve: bool = Field(True, description="Say so when the condition no longer holds.")
    note: str | None = Field(None, description="A line added to every message: what to do.")

    @model_validator(mode="after")
    def _fits(self) -> Alert:
        allowed = _ONLY[self.when]
        every = set().union(*_ONLY.values())
        for key in sorted((self.model_fields_set & every) - allowed):
            raise BlameError(
                key, say("`{key}` does not apply to `when: {when}`", key=key, when=self.when.value)
            )
        if self.when is AlertWhen.threshold and self.above is None and self.below is None:
            raise BlameError("when", say("`when: threshold` needs `above: …` or `below: …`"))
        if self.when is AlertWhen.change and self.change is None:
            raise BlameError("when", say("`when: change` needs `change: 0.2` (a move of 20%)"))
        if self.after is not None and self.after < dt.timedelta(days=1):
            raise BlameError("after", say("data is dated by the day: write `after: 1 day` or more"))
        if self.when is AlertWhen.status and not self.statuses:
            raise BlameError("statuses", say("name at least one status: at_risk, off_track"))
        return self


class Job(StrEnum):
    refresh = "refresh"
    alerts = "alerts"
    digest = "digest"
    report = "report"


class Every(StrEnum):
    hour = "hour"
    day = "day"
    week = "week"
    month = "month"


class ReportFormat(StrEnum):
    pdf = "pdf"
    html = "html"
    xlsx = "xlsx"
    md = "md"


class Schedule(Selection):
    """Something done on a clock: a refresh, an alert check, a digest or a report."""

    do: Job
    every: Every
    at: Clock | None = Field(None, description='"08:00"; ":15" for every hour (default :00).')
    on: Weekday | int | None = Field(
        None, description="The weekday (every: week) or day of the month, 1-31 (every: month)."
    )
    to: Names = Field(default_factory=list, description="Channels, `owner`s, or addresses.")
    each_owner: bool = Field(False, description="Digest: each owner gets their own KPIs.")
    format: ReportFormat = ReportFormat.pdf
    folder: str | None = Field(None, description="Report: also write it into this folder.")
    description: str | None = None

    @model_validator(mode="after")
    def _fits(self) -> Schedule:
        given = self.model_fields_set
        if self.every is Every.hour and self.at is not None and not _MINUTE.match(self.at):
            raise BlameError("at", say('every hour runs at a minute past: write `at: ":15"`'))
        if self.every is not Every.hour and self.at is not None and _MINUTE.match(self.at):
            raise BlameError("at", say('write the time of day, e.g. `at: "08:00"`'))
        if self.on is not None:
            if self.every is Every.week and not isinstance(self.on, Weekday):
                raise BlameError("on", say("every week runs on a weekday: monday … sunday"))
            if self.every is Every.month and not (isinstance(self.on, int) and 1 <= self.on <= 31):
                raise BlameError("on", say("every month runs on a day of the month, 1 to 31"))
            if self.every in (Every.hour, Every.day):
                raise BlameError(
                    "on", say("`on` does not apply to `every: {every}`", every=self.every.value)
                )
        own = {
            Job.digest: {"to", "each_owner", "kpis", "goal", "tag", "owner"},
            Job.report: {"to", "format", "folder", "goal"},
        }.get(self.do, set())
        others = {"to", "each_owner", "format", "folder", "kpis", "goal", "tag", "owner"}
        for key in sorted((given & others) - own):
            raise BlameError(
                key, say("`{key}` does not apply to `do: {do}`", key=key, do=self.do.value)
            )
        if self.do is Job.digest and not (self.to or self.each_owner):
            raise BlameError("do", say("a digest needs `to: [...]` or `each_owner: true`"))
        if self.do is Job.report and not (self.to or self.folder):
            raise BlameError("do", say("a report needs `to: [...]` or `folder: …`"))
        return self

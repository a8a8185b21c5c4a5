"""tolok.yaml's alert rules and schedules as forms: each definition as the YAML holds it, the
fields a person fills (values in the reader's habits), the choices each field offers (the
project's KPIs, goals and channels), and whether the reader may save here.

The page writes nothing itself: its script (`static/build-rules.js`) sends a form to the
definitions API (`/api/v1/definitions/alerts/…`, `/api/v1/definitions/schedules/…`), which
validates the whole project and writes tolok.yaml. Rules people make for themselves in the
app (the "alert me" form) are kept in the store and are not listed here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from tolok.i18n import voice
from tolok.server.api_definitions import EDIT, read_only
from tolok.server.web import Context
from tolok.spec import edit
from tolok.spec.base import Weekday
from tolok.spec.sharing import AlertWhen, ChangeDirection, Every, Job, ReportFormat, Watch

Section = Literal["alerts", "schedules"]
Choices = list[tuple[str, str]]


class RuleForm(BaseModel):
    """One definition's fields as its form shows them: texts, numbers written as the reader
    writes them, lists as lists (a list shown in one field is joined by commas)."""

    name: str
    file: str
    line: int
    fields: dict[str, Any]


class RulesPage(BaseModel):
    section: Section
    title: str
    forms: list[RuleForm]
    blank: RuleForm  # a new one's form
    definitions: dict[str, dict[str, Any]]  # as the YAML holds them: other keys stay
    fingerprints: dict[str, str]
    choices: dict[str, Choices]  # per field, (value, label)
    recipients: list[str]  # channels and `owner`, for the recipients' suggestions
    can_save: bool
    read_only: str | None  # why nobody may save here, in the reader's words
    not_allowed: str | None  # why this reader may not


def data(ctx: Context, section: Section) -> RulesPage:
    loaded = ctx.loaded
    project = ctx.project
    refused = read_only(loaded)
    allowed = ctx.principal is not None and ctx.principal.can(EDIT)
    definitions = {}
    forms = []
    for name in getattr(project, section):
        entry = loaded.entries[(section, name)]
        written = edit.as_json(entry.node)
        definition = written if isinstance(written, dict) else {}
        definitions[name] = definition
        file = edit.relative(entry.file.path, loaded.root)
        forms.append(RuleForm(name=name, file=file, line=entry.key.line,
                              fields=_fields(ctx, definition)))  # fmt: skip
    _ = ctx._
    said = (
        None if refused is None else refused.worded(voice(ctx.lang) if ctx.lang != "en" else None)
    )
    title = _("Alert rules") if section == "alerts" else _("Schedules")
    told = ["owner"] if project.email is not None else list(project.channels)[:1]
    blank = {"when": "status", "notify": told} if section == "alerts" else {}
    return RulesPage(
        section=section,
        title=title,
        forms=forms,
        blank=RuleForm(name="", file="tolok.yaml", line=0, fields=_fields(ctx, blank)),
        definitions=definitions,
        fingerprints=edit.fingerprints(loaded),
        choices=choices(ctx),
        recipients=[*project.channels, "owner"],
        can_save=allowed and refused is None,
        read_only=said,
        not_allowed=None
        if allowed
        else _("Editors and admins may change alert rules and schedules; your role may read them."),
    )


def _fields(ctx: Context, definition: dict[str, Any]) -> dict[str, Any]:
    """Every key as a form field's value: numbers in the reader's writing, the rest as text
    or lists of text."""
    out: dict[str, Any] = {}
    for key, value in definition.items():
        if isinstance(value, bool):
            out[key] = value
        elif isinstance(value, int | float):
            out[key] = number(ctx, value)
        elif isinstance(value, list):
            out[key] = [str(v) for v in value]
        elif isinstance(value, dict):
            out[key] = value  # quiet_hours: kept as written, not on the form
        else:
            out[key] = "" if value is None else str(value)
    return out


def number(ctx: Context, value: float) -> str:
    shown = str(int(value)) if float(value).is_integer() else repr(float(value))
    return shown.replace(".", ",") if ctx.lang == "id" else shown


def choices(ctx: Context) -> dict[str, Choices]:
    """The choices of each closed field, in words."""
    _ = ctx._
    project = ctx.project
    when = {"status": _("the status changes"), "threshold": _("the value crosses a line"),
            "change": _("the value moves sharply"), "anomaly": _("the value is unusual"),
            "target_reached": _("the target is reached"),
            "stale": _("no new data comes")}  # fmt: skip
    jobs = {"refresh": _("refresh the data"), "alerts": _("check the alerts"),
            "digest": _("send a digest"), "report": _("send a report")}  # fmt: skip
    every = {"hour": _("every hour"), "day": _("every day"), "week": _("every week"),
             "month": _("every month")}  # fmt: skip
    words = {"at_risk": _("at risk"), "off_track": _("off track"),
             "worse": _("for the worse"), "better": _("for the better"), "any": _("either way"),
             "closed": _("the last closed period"), "open": _("the period under way")}  # fmt: skip
    days = {"monday": _("Monday"), "tuesday": _("Tuesday"), "wednesday": _("Wednesday"),
            "thursday": _("Thursday"), "friday": _("Friday"), "saturday": _("Saturday"),
            "sunday": _("Sunday")}  # fmt: skip
    return {
        "when": [(w.value, when[w.value]) for w in AlertWhen],
        "statuses": [(s, words[s]) for s in ("at_risk", "off_track")],
        "direction": [(d.value, words[d.value]) for d in ChangeDirection],
        "period": [(p.value, words[p.value]) for p in Watch],
        "do": [(j.value, jobs[j.value]) for j in Job],
        "every": [(e.value, every[e.value]) for e in Every],
        "on": [(d.value, days[d.value]) for d in Weekday],
        "format": [(f.value, f.value.upper()) for f in ReportFormat],
        "kpis": [(n, k.title or n) for n, k in project.kpis.items()],
        "goal": [(n, g.title) for n, g in project.goals.items()],
    }

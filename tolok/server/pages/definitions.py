"""A KPI's definition as a form: what the YAML holds, the choices each field offers (the
project's goals, the people and teams who may own it, the names a formula may use) and
whether the reader may save it here.

The page writes nothing itself: its script sends the form to the definitions API
(`tolok/server/api_definitions.py`), which validates, asks for a reason and writes the YAML.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tolok.i18n import voice
from tolok.server.api_definitions import EDIT, read_only
from tolok.server.web import Context
from tolok.spec import edit
from tolok.spec.models import Direction, Grain, Status, Unit

DEFAULTS = {
    "unit": Unit.number.value,
    "direction": Direction.up.value,
    "grain": Grain.month.value,
    "status": Status.active.value,
}
"""What a KPI is when its YAML does not say: the form leaves such a key out unless changed."""
SIMPLE_TARGET = frozenset({"value", "from"})
GROWTH_TARGET = frozenset({"growth", "vs", "from"})
TARGET_KINDS = ("none", "value", "growth", "kept")
"""The target forms the form offers: none, one value (from a period on), a growth rule; any
other (per period, by slice, a ramp, several) is kept as written."""
THRESHOLDS = {"at_risk": 0.95, "off_track": 0.85}


class Choice(BaseModel):
    value: str
    label: str


class DefinitionForm(BaseModel):
    """The fields as the form shows them: lists one a line or comma-separated, a number in
    the reader's habits."""

    title: str
    description: str
    formula: str
    unit: str
    direction: str
    grain: str
    owner: str
    goal: str
    tags: str
    actions: str
    status: str
    target: str | None  # None: the target is more than a number, kept as written
    target_kind: str  # one of TARGET_KINDS
    target_from: str  # the period a value or a rule starts from
    growth: str  # a growth rule's rate, in percent as the reader writes numbers
    vs: str  # last_year or previous
    at_risk: str  # the thresholds, in percent of the target
    off_track: str


class Choices(BaseModel):
    """What the KPI form's lists offer, in the reader's words."""

    units: list[Choice]
    directions: list[Choice]
    grains: list[Choice]
    statuses: list[Choice]
    owners: list[Choice]
    goals: list[Choice]
    target_kinds: list[Choice]
    comparisons: list[Choice]  # a growth rule's `vs`
    names: list[str]  # measures and KPIs, for the formula's suggestions


class DefinitionPage(Choices):
    """The form of an existing KPI, with the choices its lists offer (`Choices`)."""

    name: str
    title: str
    file: str
    line: int
    form: DefinitionForm
    definition: dict[str, Any]  # as the YAML holds it: the keys the form leaves alone stay
    fingerprints: dict[str, str]
    can_save: bool
    read_only: str | None  # why nobody may save here, in the reader's words
    not_allowed: str | None  # why this reader may not


def data(ctx: Context, engine: Engine, name: str) -> DefinitionPage:
    """The form of KPI `name`, whose entry the caller found in the project."""
    loaded = ctx.loaded
    entry = loaded.entries[("kpis", name)]
    written = edit.as_json(entry.node)
    definition: dict[str, Any] = written if isinstance(written, dict) else {}
    refused = read_only(loaded)
    said = None
    if refused is not None:
        said = refused.worded(voice(ctx.lang) if ctx.lang != "en" else None)
    allowed = ctx.principal is not None and ctx.principal.can(EDIT)
    not_allowed = (
        None
        if allowed
        else ctx._("Editors and admins may change a definition; your role may read it.")
    )
    return DefinitionPage(
        name=name,
        title=str(definition.get("title") or name),
        file=edit.relative(entry.file.path, loaded.root),
        line=entry.key.line,
        form=form_of(ctx, definition),
        definition=definition,
        fingerprints=edit.fingerprints(loaded),
        **choices(ctx, engine, definition.get("owner")).model_dump(),
        can_save=allowed and refused is None,
        read_only=said,
        not_allowed=not_allowed,
    )


def choices(ctx: Context, engine: Engine, owner: object = None) -> Choices:
    """The lists of the KPI form (this page's and the new KPI page's)."""
    project = ctx.project
    measures = {m for d in project.datasets.values() for m in d.measures}
    _ = ctx._
    kinds = {"none": _("No target"), "value": _("One value"), "growth": _("A growth rule"),
             "kept": _("As written in the YAML")}  # fmt: skip
    return Choices(
        units=_choices(ctx, [u.value for u in Unit]),
        directions=_choices(ctx, [d.value for d in Direction]),
        grains=_choices(ctx, [g.value for g in Grain]),
        statuses=_choices(ctx, [s.value for s in Status]),
        owners=_owners(ctx, engine, owner),
        goals=[Choice(value=n, label=g.title or n) for n, g in project.goals.items()],
        target_kinds=[Choice(value=k, label=kinds[k]) for k in TARGET_KINDS],
        comparisons=[
            Choice(value="last_year", label=_("the same period a year before")),
            Choice(value="previous", label=_("the period before")),
        ],
        names=sorted(measures | set(project.kpis)),
    )


def form_of(ctx: Context, definition: dict[str, Any]) -> DefinitionForm:
    """The form's fields as a definition (written, or proposed) fills them."""

    def text(key: str) -> str:
        value = definition.get(key)
        return "" if value is None else str(value)

    def listed(key: str) -> list[str]:
        value = definition.get(key)
        return [str(v) for v in value] if isinstance(value, list) else []

    return DefinitionForm(
        title=text("title"),
        description=text("description"),
        formula=text("formula"),
        unit=text("unit") or DEFAULTS["unit"],
        direction=text("direction") or DEFAULTS["direction"],
        grain=text("grain") or DEFAULTS["grain"],
        owner=text("owner"),
        goal=text("goal"),
        tags=", ".join(listed("tags")),
        actions="\n".join(listed("actions")),
        status=text("status") or DEFAULTS["status"],
        target=_target(ctx, definition.get("target")),
        **_target_fields(ctx, definition.get("target")),
        **_thresholds(ctx, definition.get("thresholds")),
    )


def _number(ctx: Context, value: float) -> str:
    """A number as the reader writes it in a field: no grouping, their decimal mark."""
    shown = str(int(value)) if float(value).is_integer() else repr(round(float(value), 10))
    return shown.replace(".", ",") if ctx.lang == "id" else shown


def _target_fields(ctx: Context, target: Any) -> dict[str, str]:
    """Which target form the form shows, and its fields: one value, or a growth rule;
    anything else is kept as written."""
    out = {"target_kind": "none", "target_from": "", "growth": "", "vs": "last_year"}
    if target is None:
        return out
    if isinstance(target, dict) and set(target) <= GROWTH_TARGET and "growth" in target:
        growth = target.get("growth")
        if isinstance(growth, int | float) and not isinstance(growth, bool):
            vs = str(target.get("vs") or "last_year")
            return {"target_kind": "growth", "target_from": str(target.get("from") or ""),
                    "growth": _number(ctx, growth * 100), "vs": vs}  # fmt: skip
    if _target(ctx, target) is not None:
        return {**out, "target_kind": "value", "target_from": str(target.get("from") or "")}
    return {**out, "target_kind": "kept"}


def _thresholds(ctx: Context, thresholds: Any) -> dict[str, str]:
    """The thresholds in percent of the target, as written or the defaults."""
    given = thresholds if isinstance(thresholds, dict) else {}
    out = {}
    for key, default in THRESHOLDS.items():
        value = given.get(key, default)
        usable = isinstance(value, int | float) and not isinstance(value, bool)
        number = value if usable else default
        out[key] = _number(ctx, number * 100)
    return out


def _target(ctx: Context, target: Any) -> str | None:
    """A target that is one number (from a period, maybe) as the reader writes numbers;
    None for any other (by slice, a schedule): kept as written."""
    if target is None:
        return ""
    if not isinstance(target, dict) or not set(target) <= SIMPLE_TARGET:
        return None
    value = target.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return _number(ctx, value)


def _choices(ctx: Context, values: list[str]) -> list[Choice]:
    return [Choice(value=v, label=_label(ctx, v)) for v in values]


def _label(ctx: Context, value: str) -> str:
    """An enum's value said in words (the same words the board's filters use)."""
    _ = ctx._
    words = {
        "number": _("number"), "percent": _("percent"), "currency": _("currency"),
        "duration": _("duration"), "count": _("count"),
        "up": _("higher is better"), "down": _("lower is better"),
        "band": _("within a band around the target"),
        "day": _("day"), "week": _("week"), "month": _("month"), "quarter": _("quarter"),
        "year": _("year"), "fiscal_quarter": _("fiscal quarter"), "fiscal_year": _("fiscal year"),
        "draft": _("draft"), "active": _("active"), "retired": _("retired"),
    }  # fmt: skip
    return words.get(value, value)


def _owners(ctx: Context, engine: Engine, current: object) -> list[Choice]:
    """Who may own a KPI: the users (by e-mail), the teams, the owners the project already
    names; the current owner always."""
    from tolok.store.people import TeamMember, User

    with Session(engine) as session:
        emails = set(session.scalars(select(User.email).where(User.disabled.is_(False))))
        teams = set(session.scalars(select(TeamMember.team)))
    named = {k.owner for k in ctx.project.kpis.values() if k.owner}
    named |= {g.owner for g in ctx.project.goals.values() if g.owner}
    if isinstance(current, str) and current:
        named.add(current)
    people = sorted((emails | named) - teams)
    return [Choice(value=e, label=e) for e in people] + [
        Choice(value=t, label=ctx._("team {team}", team=t)) for t in sorted(teams)
    ]

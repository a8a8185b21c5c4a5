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


class DefinitionPage(BaseModel):
    name: str
    title: str
    file: str
    line: int
    form: DefinitionForm
    definition: dict[str, Any]  # as the YAML holds it: the keys the form leaves alone stay
    fingerprints: dict[str, str]
    units: list[Choice]
    directions: list[Choice]
    grains: list[Choice]
    statuses: list[Choice]
    owners: list[Choice]
    goals: list[Choice]
    names: list[str]  # measures and KPIs, for the formula's suggestions
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
    project = ctx.project
    measures = {m for d in project.datasets.values() for m in d.measures}
    return DefinitionPage(
        name=name,
        title=str(definition.get("title") or name),
        file=edit.relative(entry.file.path, loaded.root),
        line=entry.key.line,
        form=_form(ctx, definition),
        definition=definition,
        fingerprints=edit.fingerprints(loaded),
        units=_choices(ctx, [u.value for u in Unit]),
        directions=_choices(ctx, [d.value for d in Direction]),
        grains=_choices(ctx, [g.value for g in Grain]),
        statuses=_choices(ctx, [s.value for s in Status]),
        owners=_owners(ctx, engine, definition.get("owner")),
        goals=[Choice(value=n, label=g.title or n) for n, g in project.goals.items()],
        names=sorted(measures | set(project.kpis)),
        can_save=allowed and refused is None,
        read_only=said,
        not_allowed=not_allowed,
    )


def _form(ctx: Context, definition: dict[str, Any]) -> DefinitionForm:
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
    )


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
    shown = str(int(value)) if float(value).is_integer() else repr(float(value))
    return shown.replace(".", ",") if ctx.lang == "id" else shown


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

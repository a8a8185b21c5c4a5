"""The KPI builder's API: what the "Add a KPI" form and the definition editor ask before a
save — whether an unsaved definition validates, its last twelve periods computed from the
data, the target history suggests for it, and a catalog template mapped onto the project.

Nothing here writes the YAML but `POST /api/v1/catalog/{template}/add`, which writes a
template's measures and its KPI in one change (`tolok.spec.edit`: the whole project
validated first, refused when a file changed since its fingerprints were read, atomic,
audited). A KPI from scratch is saved by `POST /api/v1/kpis` (`api_definitions`).

Who may: as `POST /api/v1/kpis` — editors and admins (a token's `write` scope), and a viewer
in the team that owns an existing KPI for that KPI; never while definitions are read-only.
Knows no SQL: the preview computes through `tolok.builder.preview`.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool
from sqlalchemy.orm import Session

from tolok.auth import accounts
from tolok.builder.preview import Computed, computed, overlaid
from tolok.catalog.add import CatalogError, Plan, plan
from tolok.catalog.templates import Template, find
from tolok.i18n import LANG_COOKIE, LANGS, Formats, gettext, status_words
from tolok.server import models as m
from tolok.server.api_definitions import ANSWERS, EDIT, Writer, located, refused, spoken_in
from tolok.server.charts import Line, series_figure
from tolok.server.errors import ApiError
from tolok.server.security import Principal, state_of
from tolok.spec import edit
from tolok.spec.calendar import Calendar
from tolok.spec.edit import Change
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import Direction, Vs
from tolok.spec.problems import say
from tolok.track.verdict import PeriodState

log = logging.getLogger("tolok.server")
router = APIRouter(prefix="/api/v1", responses=ANSWERS, tags=["builder"])
TemplateName = Annotated[str, Path(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,99}$", max_length=100)]
MISSING = "\u2013"  # an en dash: no value


def _small(value: dict[str, Any]) -> dict[str, Any]:
    """A definition nests a few levels: more than 10 is not one."""

    def depth(node: Any) -> int:
        if isinstance(node, dict):
            return 1 + max((depth(v) for v in node.values()), default=0)
        if isinstance(node, list):
            return 1 + max((depth(v) for v in node), default=0)
        return 0

    if depth(value) > 10:
        raise ValueError("a definition nests at most 10 levels")
    return value


Definition = Annotated[dict[str, Any], AfterValidator(_small)]


class UnsavedKpiIn(BaseModel):
    """A KPI as the form makes it, not saved yet (or changed, not saved yet)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=m.DEFINITION_NAME, description="The KPI's name (new or not).")
    definition: Definition = Field(description="The KPI's definition, keys as in YAML.")
    measures: dict[str, Definition] = Field(
        default_factory=dict,
        description="Measures added with it, per dataset: {orders: {revenue: {agg: sum, "
        "expr: amount}}} (a catalog template's).",
    )
    new: StrictBool = Field(False, description="A new KPI: its name must not be taken.")


class CheckOut(BaseModel):
    ok: bool = Field(description="True when the project would validate with it.")
    problems: list[m.DefinitionProblem]


class PeriodOut(BaseModel):
    period: str = Field(description="The period's first day.")
    label: str = Field(description="The period as the reader names it.")
    value: float | None
    text: str = Field(description="The value in the reader's number habits.")
    target: float | None
    target_text: str
    state: str = Field(description="closed, open, not_final or partial.")
    status: str | None = Field(description="on_track, at_risk, off_track, no_target, no_data.")
    status_text: str | None


class PreviewOut(BaseModel):
    name: str
    grain: str
    unit: str
    periods: list[PeriodOut] = Field(description="The last 12 periods of the data.")
    figure: dict[str, Any] = Field(description="The chart, as Plotly's JSON (tolok's charts).")
    said: str = Field(description="What the preview shows, in a sentence.")


class SuggestionOut(BaseModel):
    found: bool
    said: str = Field(description="The proposal (or why there is none) in words.")
    target: dict[str, Any] | None = Field(
        None, description="The target form to write: {growth: 0.12, vs: last_year}."
    )
    next_value: float | None = Field(None, description="What it asks of the next period.")
    next_text: str | None = None


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    datasets: dict[str, str] = Field(
        default_factory=dict,
        description='Table role → dataset ({orders: sales}); a key "" stands for the only one.',
    )
    columns: dict[str, str] = Field(
        default_factory=dict, description="Template column → the dataset's column."
    )
    name: str | None = Field(None, pattern=m.DEFINITION_NAME, description="The KPI's name.")


class PlanOut(BaseModel):
    template: str
    name: str
    definition: dict[str, Any] = Field(description="The KPI as it would be written.")
    measures: dict[str, dict[str, Any]] = Field(description="New measures per dataset.")
    reused: dict[str, str] = Field(description="Template measure → the project's same measure.")


class CatalogAddIn(PlanIn):
    name: str = Field(pattern=m.DEFINITION_NAME, description="The KPI's name.")
    definition: Definition | None = Field(
        None, description="The KPI as the form made it from the plan's; else the plan's."
    )
    planned: str | None = Field(
        None, pattern=m.DEFINITION_NAME,
        description="The name the plan was asked with, when the KPI was named otherwise "
        "since: the new measures are named after it, as its formula reads them.",
    )  # fmt: skip
    fingerprints: m.Fingerprints = None


# --- routes ---------------------------------------------------------------------------------


@router.post("/builder/check", response_model=CheckOut)
def check_unsaved_kpi(request: Request, body: UnsavedKpiIn, principal: Writer) -> dict[str, Any]:
    """Whether a KPI not saved yet would validate with the whole project, as `tolok
    validate` checks it (codes TLK0xx, each with its field's path); writes nothing."""
    _allowed(request, principal, body.name)
    loaded = state_of(request).project()
    taken = _taken(request, loaded, body)
    if taken is not None:
        return {"ok": False, "problems": [taken]}
    try:
        _overlay(request, body)
    except edit.InvalidError as exc:
        return {"ok": False, "problems": [located(p, spoken_in(request)) for p in exc.problems]}
    return {"ok": True, "problems": []}


@router.post("/builder/preview", response_model=PreviewOut)
def preview_unsaved_kpi(request: Request, body: UnsavedKpiIn, principal: Writer) -> dict[str, Any]:
    """The last 12 periods of the data of a KPI not saved yet (or changed), computed on the
    warehouse with their targets and statuses, and its chart; nothing is stored."""
    _allowed(request, principal, body.name)
    found = _computed(request, body)
    return _preview(request, found)


@router.post("/builder/suggest-target", response_model=SuggestionOut)
def suggest_target(request: Request, body: UnsavedKpiIn, principal: Writer) -> dict[str, Any]:
    """The target `tolok suggest-target` would propose for this definition, from its
    history computed now: a growth rule, and what it asks of the next period."""
    _allowed(request, principal, body.name)
    return _suggestion(request, _computed(request, body))


@router.post("/catalog/{template}/plan", response_model=PlanOut)
def plan_template(
    request: Request, template: TemplateName, body: PlanIn, principal: Writer
) -> dict[str, Any]:
    """A catalog template mapped onto the project's datasets and columns, as `tolok catalog
    add --dataset --map` would write it: the KPI and the measures it adds."""
    _allowed(request, principal, None)
    key, chosen = _template(request, template)
    result = _plan(request, key, chosen, body)
    # Its words in the reader's language (the catalog they chose it from), else the project's.
    loaded = state_of(request).project()
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    lang = asked if asked in LANGS else str(loaded.project.locale if loaded.project else "en")
    worded = {"title": chosen.title(lang), "description": chosen.description(lang)}
    return {
        "template": key,
        "name": result.kpi_name,
        "definition": {**result.kpi, **worded},
        "measures": result.new_measures,
        "reused": result.reused,
    }


@router.post("/catalog/{template}/add", response_model=m.DefinitionWritten, status_code=201)
def add_template(
    request: Request, template: TemplateName, body: CatalogAddIn, principal: Writer
) -> dict[str, Any]:
    """A catalog template written into the project: its new measures and its KPI (as the
    form changed it) in one change, validated first, audited."""
    _allowed(request, principal, None)
    key, chosen = _template(request, template)
    result = _plan(request, key, chosen, body, body.planned or body.name)
    state = state_of(request)
    loaded = state.project()
    definition = body.definition if body.definition is not None else result.kpi
    changes = [
        Change("datasets", d, {"measures": _measures(loaded, d, added)}, merge=True)
        for d, added in result.new_measures.items()
    ]
    changes.append(Change("kpis", body.name, definition, new=True))
    try:
        draft = edit.prepare(state.root, changes, body.fingerprints)
        written = edit.write(draft)
    except edit.EditError as exc:
        raise refused(request, exc) from None
    after = draft.after.entries[("kpis", body.name)]
    saved = edit.as_json(after.node)
    with Session(state.engine) as session, session.begin():
        accounts.audit(
            session, principal.email, "definition.created", f"kpis {body.name}", None,
            {"definition": saved, "template": key, "measures": result.new_measures,
             "files": sorted(written.diffs)},
        )  # fmt: skip
    state.rewritten()
    return {
        "section": "kpis",
        "name": body.name,
        "action": "created",
        "definition": saved,
        "diffs": written.diffs,
        "fingerprints": written.fingerprints,
    }


# --- what the routes share -------------------------------------------------------------------


def _allowed(request: Request, principal: Principal, name: str | None) -> None:
    """An editor's role, or a viewer's team owning the existing KPI `name`."""
    if principal.can(EDIT):
        return
    entry = state_of(request).project().entries.get(("kpis", name or ""))
    written = edit.as_json(entry.node) if entry is not None else None
    owner = written.get("owner") if isinstance(written, dict) else None
    if entry is None or not principal.can_edit_kpi(EDIT, owner if isinstance(owner, str) else None):
        said = say("your role or token does not allow building KPIs")
        raise ApiError(403, said.worded(spoken_in(request)))


def _lang(request: Request) -> str:
    """The language asked for (`?lang=id`, or the pages' choice); else English."""
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return str(asked) if asked in LANGS else "en"


def _taken(request: Request, loaded: LoadedProject, body: UnsavedKpiIn) -> dict[str, Any] | None:
    """A new KPI's name that is taken, as a problem of its `name` field."""
    entry = loaded.entries.get(("kpis", body.name))
    if not body.new or entry is None:
        return None
    file = edit.relative(entry.file.path, loaded.root)
    said = say("'{name}' is already defined in {file}", name=body.name, file=file)
    return {
        "code": "TLK005", "message": said.worded(spoken_in(request)), "hint": None,
        "path": ["kpis", body.name, "name"], "file": file, "line": entry.key.line,
        "column": entry.key.col,
    }  # fmt: skip


def _overlay(request: Request, body: UnsavedKpiIn) -> LoadedProject:
    state = state_of(request)
    try:
        return overlaid(state.root, body.name, body.definition, body.measures, state.project())
    except edit.InvalidError:
        raise
    except edit.EditError as exc:
        raise refused(request, exc) from None


def _computed(request: Request, body: UnsavedKpiIn) -> Computed:
    """The unsaved KPI computed whole; a definition that does not validate is a 422 with its
    problems, data that cannot be read a 422 that says why."""
    from tolok.compile.errors import CompileError
    from tolok.engine.errors import WarehouseError
    from tolok.spec.formula import FormulaError
    from tolok.store.manual import source

    try:
        loaded = _overlay(request, body)
    except edit.InvalidError as exc:
        raise refused(request, exc) from None
    engine = state_of(request).engine
    targets = None
    if not body.new:  # a KPI that exists: judged with the targets people set for it
        from sqlalchemy.orm import Session

        from tolok.store.targets import person_targets

        with Session(engine) as session:
            targets = person_targets(session, body.name)
    try:
        return computed(loaded, body.name, source(engine), targets=targets)
    except (WarehouseError, CompileError, FormulaError, ValueError, OSError) as exc:
        log.info("preview of %s failed: %s", body.name, exc)
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        said = say("the data cannot be computed for this definition: {why}", why=first)
        raise ApiError(422, said.worded(spoken_in(request)), "definition") from None


def _formats(request: Request, loaded: LoadedProject) -> Formats:
    assert loaded.project is not None
    return Formats(_lang(request), loaded.project.currency, Calendar.of(loaded.project))


def _preview(request: Request, found: Computed) -> dict[str, Any]:
    fmt = _formats(request, found.loaded)
    _ = gettext(fmt.lang)
    kpi, unit = found.kpi, found.kpi.unit.value
    shown = found.last()
    words = status_words(_)
    periods = []
    values = fmt.values([v.value for v in shown], unit)
    targets = fmt.values([v.target for v in shown], unit)
    texts = [t if v.value is not None else MISSING for v, t in zip(shown, values, strict=True)]
    goals = [t if v.target is not None else MISSING for v, t in zip(shown, targets, strict=True)]
    for verdict, text, target in zip(shown, texts, goals, strict=True):
        status = None if verdict.status is None else str(verdict.status)
        periods.append({
            "period": verdict.period.isoformat(), "label": fmt.period(verdict.period, kpi.grain),
            "value": verdict.value, "text": text, "target": verdict.target, "target_text": target,
            "state": str(verdict.state), "status": status,
            "status_text": None if status is None else words.get(status, status),
        })  # fmt: skip
    title = kpi.title or found.name
    starts = [v.period for v in shown]
    closed = [v.state is PeriodState.closed for v in shown]
    line = Line(title, starts, [v.value if c else None for v, c in zip(shown, closed, strict=True)],
                texts)  # fmt: skip
    part = Line(_("{name} so far", name=title), starts,
                [None if c else v.value for v, c in zip(shown, closed, strict=True)],
                texts)  # fmt: skip
    target_line = None
    if any(v.target is not None for v in shown):
        target_line = Line(_("Target"), starts, [v.target for v in shown], goals)
    figure = series_figure([line], unit, fmt, _, so_far=[part] if not all(closed) else [],
                           target=target_line, grain=kpi.grain, filename=found.name)  # fmt: skip
    said = _("The last {count} periods of the data, computed now; nothing is saved.",
             count=len(shown))  # fmt: skip
    return {"name": found.name, "grain": kpi.grain.value, "unit": unit, "periods": periods,
            "figure": figure, "said": said}  # fmt: skip


def _suggestion(request: Request, found: Computed) -> dict[str, Any]:
    fmt = _formats(request, found.loaded)
    _ = gettext(fmt.lang)
    suggestion = found.suggestion()
    if suggestion is None:
        said = _("Not enough history to suggest a target: it needs four whole periods or more.")
        return {"found": False, "said": said}
    unit = found.kpi.unit.value
    compared = (
        _("the same period a year before")
        if suggestion.vs is Vs.last_year
        else _("the period before")
    )
    target, baseline = fmt.values([suggestion.target, suggestion.baseline], unit)
    growth = fmt.change(suggestion.growth)
    if found.kpi.direction is Direction.band or suggestion.holds:
        said = _("Suggested: hold the recent level, {target} ({growth} on {baseline}, "
                 "{compared}).", target=target, growth=growth, baseline=baseline,
                 compared=compared)  # fmt: skip
    else:
        said = _("Suggested: {growth} against {compared}, i.e. {target} from {baseline}; "
                 "history reached it a quarter of the time.", growth=growth, compared=compared,
                 target=target, baseline=baseline)  # fmt: skip
    rule = {"growth": round(suggestion.growth, 3), "vs": suggestion.vs.value}
    return {"found": True, "said": said, "target": rule, "next_value": suggestion.target,
            "next_text": target}  # fmt: skip


def _template(request: Request, name: str) -> tuple[str, Template]:
    found = find(name)
    if found is None:
        said = say("no catalog template named '{name}'", name=name)
        raise ApiError(404, said.worded(spoken_in(request)), "template")
    return found


def _plan(
    request: Request, key: str, template: Template, body: PlanIn, name: str | None = None
) -> Plan:
    loaded = state_of(request).project()
    assert loaded.project is not None
    columns = {c: v for c, v in body.columns.items() if v and v != c}
    try:
        return plan(key, template, loaded.project, body.datasets, columns, name or body.name)
    except CatalogError as exc:
        raise ApiError(422, exc.worded(spoken_in(request)), exc.field) from None


def _measures(loaded: LoadedProject, dataset: str, added: dict[str, Any]) -> dict[str, Any]:
    entry = loaded.entries[("datasets", dataset)]
    written = edit.as_json(entry.node)
    measures = written.get("measures") if isinstance(written, dict) else None
    return {**(measures if isinstance(measures, dict) else {}), **added}

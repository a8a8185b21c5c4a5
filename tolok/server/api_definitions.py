"""The definitions API: datasets, goals and KPIs, and tolok.yaml's alert rules and schedules
(`/api/v1/definitions/alerts/…`, `/api/v1/definitions/schedules/…`), read and changed as
the YAML holds them.

Every change is written to the project's YAML by `tolok.spec.edit` (ruamel round trip, the
whole project validated first, refused when a file changed since its fingerprints were
read, written atomically) and audited; the next request sees it. A change that alters
computed values needs a `reason`, written as the changed KPIs' `changelog`: the next refresh
records the new definition version with it, as it does for a YAML edit.

Who may: editors and admins (`Action.edit_definitions`; a token needs `write`); a viewer in
the team that owns a KPI may change its `target` and `actions` only (`Action.set_targets`,
as on the data entry page); everyone signed in may read.
`TOLOK_READONLY_DEFINITIONS=1`, or `definitions: {editable: false}` in tolok.yaml, turns
every write here into a 403.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import Enum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from tolok.auth import accounts
from tolok.auth.roles import Action
from tolok.i18n import LANG_COOKIE, LANGS, voice
from tolok.server import models as m
from tolok.server.api import ERRORS
from tolok.server.errors import ApiError
from tolok.server.security import Principal, need, permitted, state_of
from tolok.spec import edit
from tolok.spec.edit import Change, Draft
from tolok.spec.loaded import LoadedProject
from tolok.spec.problems import Text, Voice, say

EDIT = Action.edit_definitions
"""Changing a definition: an editor's or an admin's role, and a token's `write` scope."""
TEAM = Action.set_targets
"""What a viewer in the team that owns a KPI may still do to its definition: change the keys
of `TEAM_KEYS`, as they set its targets on the data entry page."""
TEAM_KEYS = frozenset({"target", "actions", "changelog"})
ANSWERS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    409: {"model": m.DefinitionErrorBody},
    422: {"model": m.DefinitionErrorBody},
}
router = APIRouter(prefix="/api/v1", responses=ANSWERS)
Name = Annotated[str, Path(pattern=m.DEFINITION_NAME, max_length=100)]
_NOUNS = {"datasets": say("dataset"), "goals": say("goal"), "kpis": say("KPI"),
          "alerts": say("alert rule"), "schedules": say("schedule")}  # fmt: skip
SHARING = {"alerts": "alert rule", "schedules": "schedule"}
"""The sections of tolok.yaml's sharing part the API writes, under `/definitions/`: apart
from the alert rules people make in the app (`/api/v1/alert-rules`, kept in the store)."""


class SharingOut(BaseModel):
    """An alert rule or a schedule as tolok.yaml holds it."""

    section: Literal["alerts", "schedules"]
    name: str
    definition: dict[str, Any]
    file: str = Field(description="The project file that holds it: tolok.yaml.")
    line: int
    fingerprints: dict[str, str] = Field(description="Send these back with a change.")
    editable: bool = Field(description="False when definitions are read-only here.")


class SharingWritten(BaseModel):
    section: Literal["alerts", "schedules"]
    name: str
    action: Literal["created", "changed", "deleted", "unchanged"]
    definition: dict[str, Any] | None
    diffs: dict[str, str] = Field(description="Per file, the unified diff written.")
    fingerprints: dict[str, str]


def read_only(loaded: LoadedProject) -> Text | None:
    """Why definitions may not be changed here, or None when they may."""
    if os.environ.get("TOLOK_READONLY_DEFINITIONS", "").lower() in ("1", "true", "yes", "on"):
        return say(
            "definitions are read-only on this server (TOLOK_READONLY_DEFINITIONS): "
            "change them in the project's YAML files"
        )
    if loaded.project is not None and not loaded.project.definitions.editable:
        return say(
            "definitions are read-only in this project (tolok.yaml sets definitions.editable "
            "to false): change them in the project's YAML files"
        )
    return None


def spoken_in(request: Request) -> Voice | None:
    """The language asked for (`?lang=id`, or the pages' choice); else English."""
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return voice(asked) if asked in LANGS and asked != "en" else None


async def writer(request: Request) -> Principal:
    """Signed in, a browser's CSRF token, a token's `write` scope, definitions writable;
    the role is checked once the definition is known."""
    principal = await permitted(request, EDIT, team=True)  # EDIT and TEAM: both in `write`
    refused = read_only(state_of(request).project())
    if refused is not None:
        raise ApiError(403, refused.worded(spoken_in(request)), None, extra={"read_only": True})
    return principal


Writer = Annotated[Principal, Depends(writer)]
Reader = Annotated[Principal, Depends(need(Action.read))]


# --- routes ---------------------------------------------------------------------------------


@router.get("/kpis/{name}/definition", response_model=m.DefinitionOut, tags=["definitions"])
def get_kpi_definition(request: Request, name: Name, _: Reader) -> dict[str, Any]:
    """A KPI as the YAML holds it, with the fingerprints to send back with a change."""
    return show(request, "kpis", name)


@router.put("/kpis/{name}/definition", response_model=m.DefinitionWritten, tags=["definitions"])
def put_kpi_definition(
    request: Request, name: Name, body: m.DefinitionIn, principal: Writer
) -> dict[str, Any]:
    """Change a KPI; a change of its values needs a `reason`."""
    return change(request, principal, "kpis", name, body)


class DefinitionCheck(BaseModel):
    """What `tolok validate` would say of the project with a KPI's definition changed."""

    ok: bool = Field(description="True when the project would validate.")
    problems: list[m.DefinitionProblem]


@router.post("/kpis/{name}/definition/check", response_model=DefinitionCheck,
             tags=["definitions"])  # fmt: skip
def check_kpi_definition(
    request: Request, name: Name, body: m.DefinitionIn, _: Reader
) -> dict[str, Any]:
    """Whether a KPI's would-be definition validates with the whole project (its formula's
    names, its references), as a save would check it; writes nothing. For a form's live
    check: `reason` and `fingerprints` are not looked at."""
    state = state_of(request)
    if ("kpis", name) not in state.project().entries:
        raise _missing(request, "kpis", name)
    try:
        edit.prepare(state.root, [Change("kpis", name, body.definition)])
    except edit.InvalidError as exc:
        spoken = spoken_in(request)
        return {"ok": False, "problems": [located(p, spoken) for p in exc.problems]}
    except edit.EditError as exc:
        raise refused(request, exc) from None
    return {"ok": True, "problems": []}


@router.post("/kpis", response_model=m.DefinitionWritten, status_code=201, tags=["definitions"])
def post_kpi(request: Request, body: m.NewDefinitionIn, principal: Writer) -> dict[str, Any]:
    """A new KPI, written to the file of its function's KPIs (else in kpis/)."""
    return create(request, principal, "kpis", body)


@router.delete("/kpis/{name}/definition", response_model=m.DefinitionWritten,
               tags=["definitions"])  # fmt: skip
def delete_kpi_definition(
    request: Request, name: Name, principal: Writer,
    body: Annotated[m.RetireIn | None, Body()] = None,
    hard: Annotated[bool, Query(description="Delete a draft KPI instead of retiring it.")] = False,
) -> dict[str, Any]:  # fmt: skip
    """Retire a KPI (`status: retired`); a draft may be deleted with `hard=true`."""
    return remove(request, principal, "kpis", name, body or m.RetireIn(), hard)


def _routes_of(section: str, noun: str, removal: str, under: str = "") -> None:
    """GET, PUT and DELETE `{under}/{section}/{name}`, POST `{under}/{section}`: a dataset's,
    a goal's, or (under `/definitions`) an alert rule's or a schedule's of tolok.yaml."""
    path = f"{under}/{section}/{{name}}"
    key = noun.replace(" ", "_")

    def read(request: Request, name: Name, _: Reader) -> dict[str, Any]:
        return show(request, section, name)

    def put(request: Request, name: Name, body: m.DefinitionIn, principal: Writer) -> Any:
        return change(request, principal, section, name, body)

    def post(request: Request, body: m.NewDefinitionIn, principal: Writer) -> Any:
        return create(request, principal, section, body)

    def delete(
        request: Request, name: Name, principal: Writer,
        body: Annotated[m.RetireIn | None, Body()] = None,
    ) -> Any:  # fmt: skip
        return remove(request, principal, section, name, body or m.RetireIn(), True)

    tags: list[str | Enum] = ["definitions"]
    out: type[BaseModel] = SharingWritten if under else m.DefinitionWritten
    shown: type[BaseModel] = SharingOut if under else m.DefinitionOut
    router.add_api_route(path, read, methods=["GET"], response_model=shown, tags=tags,
                         summary=f"Read a {noun}", name=f"get_{key}",
                         description=f"A {noun} as the YAML holds it, with the fingerprints "
                         "to send back with a change.")  # fmt: skip
    router.add_api_route(path, put, methods=["PUT"], response_model=out, tags=tags,
                         summary=f"Change a {noun}", name=f"put_{key}",
                         description=f"Change a {noun}; a change of KPIs' values needs a "
                         "`reason`.")  # fmt: skip
    router.add_api_route(f"{under}/{section}", post, methods=["POST"], status_code=201,
                         response_model=out, tags=tags, summary=f"Add a {noun}",
                         name=f"post_{key}",
                         description=f"A new {noun}, beside the project's others.")  # fmt: skip
    router.add_api_route(path, delete, methods=["DELETE"], response_model=out, tags=tags,
                         summary=f"Delete a {noun}", name=f"delete_{key}",
                         description=removal)  # fmt: skip


_routes_of("datasets", "dataset", "Delete a dataset no KPI uses.")
_routes_of("goals", "goal", "Delete a goal no KPI or goal refers to.")
_routes_of("alerts", "alert rule", "Delete an alert rule of tolok.yaml; its open alerts close.",
           "/definitions")  # fmt: skip
_routes_of("schedules", "schedule", "Delete a schedule of tolok.yaml.", "/definitions")


# --- what the routes share -----------------------------------------------------------------


def show(request: Request, section: str, name: str) -> dict[str, Any]:
    """A definition as written, its file and place, the project's fingerprints."""
    loaded = state_of(request).project()
    entry = loaded.entries.get((section, name))
    if entry is None:
        raise _missing(request, section, name)
    return {
        "section": section,
        "name": name,
        "definition": edit.as_json(entry.node),
        "file": edit.relative(entry.file.path, loaded.root),
        "line": entry.key.line,
        "fingerprints": edit.fingerprints(loaded),
        "editable": read_only(loaded) is None,
    }


def change(
    request: Request, principal: Principal, section: str, name: str, body: m.DefinitionIn
) -> dict[str, Any]:
    loaded = state_of(request).project()
    entry = loaded.entries.get((section, name))
    if entry is None:
        raise _missing(request, section, name)
    if not principal.can(EDIT):
        written = edit.as_json(entry.node)
        before: dict[str, Any] = written if isinstance(written, dict) else {}
        owner = before.get("owner")
        if section != "kpis" or not principal.can_edit_kpi(TEAM, owner):
            raise ApiError(403, f"your role or token does not allow changing {section}")
        keys = set(before) | set(body.definition)
        moved = {
            k for k in keys if edit.normal(before.get(k)) != edit.normal(body.definition.get(k))
        }
        if not moved <= TEAM_KEYS:
            raise ApiError(403, say("your team may change only the target and actions of "
                                    "its KPIs").worded(spoken_in(request)))  # fmt: skip
    wanted = Change(section, name, body.definition)
    return commit(request, principal, wanted, body.reason, body.fingerprints, "changed")


def create(
    request: Request, principal: Principal, section: str, body: m.NewDefinitionIn
) -> dict[str, Any]:
    if not principal.can(EDIT):
        raise ApiError(403, f"your role or token does not allow adding {section}")
    if section == "alerts" and _made_in_app(request, body.name):
        said = say("an alert rule made in the app is already named '{name}': choose another "
                   "name", name=body.name)  # fmt: skip
        raise ApiError(409, said.worded(spoken_in(request)), "name")
    wanted = Change(section, body.name, body.definition, new=True)
    return commit(request, principal, wanted, body.reason, body.fingerprints, "created")


def remove(
    request: Request, principal: Principal, section: str, name: str, body: m.RetireIn, hard: bool
) -> dict[str, Any]:
    if not principal.can(EDIT):
        raise ApiError(403, f"your role or token does not allow removing {section}")
    loaded = state_of(request).project()
    entry = loaded.entries.get((section, name))
    if entry is None:
        raise _missing(request, section, name)
    if section != "kpis":
        wanted = Change(section, name, None)
    elif not hard:
        wanted = Change(section, name, {"status": "retired"}, merge=True)
    elif not _draft(entry.node):
        raise ApiError(409, say("only a draft KPI can be deleted: retire it instead (DELETE "
                                "without hard=true)").worded(spoken_in(request)))  # fmt: skip
    else:
        wanted = Change(section, name, None)
    action = "deleted" if wanted.definition is None else "retired"
    return commit(request, principal, wanted, body.reason, body.fingerprints, action)


def _made_in_app(request: Request, name: str) -> bool:
    """Whether a rule made in the app has `name`: a rule of tolok.yaml would hide it."""
    from sqlalchemy import select

    from tolok.store.sharing import AlertRule

    with Session(state_of(request).engine) as session:
        found = session.scalar(select(AlertRule.id).where(AlertRule.name == name).limit(1))
    return found is not None


def _draft(node: Any) -> bool:
    written = edit.as_json(node)
    return isinstance(written, dict) and written.get("status") == "draft"


def _missing(request: Request, section: str, name: str) -> ApiError:
    noun = _NOUNS[section]
    said = say("no {noun} named '{name}'", noun=noun, name=name)
    return ApiError(404, said.worded(spoken_in(request)), "name")


def commit(
    request: Request,
    principal: Principal,
    wanted: Change,
    reason: str | None,
    seen: Mapping[str, str] | None,
    action: str,
) -> dict[str, Any]:
    """Validate, ask for a reason when values change, write, audit, serve the new project."""
    state = state_of(request)
    reason = (reason or "").strip() or None
    try:
        draft = edit.prepare(state.root, [wanted], seen)
        changes = _with_reason(draft, wanted, reason, spoken_in(request))
        if changes is not None:
            draft = edit.prepare(state.root, changes, seen, draft.before)
        written = edit.write(draft) if draft.texts else edit.Written({}, {})
    except edit.EditError as exc:
        raise refused(request, exc) from None
    after = draft.after.entries.get((wanted.section, wanted.name))
    definition = None if after is None else edit.as_json(after.node)
    before = draft.before.entries.get((wanted.section, wanted.name))
    if written.diffs:
        with Session(state.engine) as session, session.begin():
            accounts.audit(
                session, principal.email, f"definition.{action}", f"{wanted.section} {wanted.name}",
                None if before is None else edit.as_json(before.node),
                {"definition": definition, "reason": reason, "files": sorted(written.diffs)},
            )  # fmt: skip
        state.rewritten()
    return {
        "section": wanted.section,
        "name": wanted.name,
        "action": action if written.diffs else "unchanged",
        "definition": definition,
        "diffs": written.diffs,
        "fingerprints": written.fingerprints or edit.fingerprints(draft.after),
    }


def _with_reason(
    draft: Draft, wanted: Change, reason: str | None, voice: Voice | None
) -> list[Change] | None:
    """The changes again with the reason as `changelog` of every KPI whose values they
    alter (and of the KPI changed), or None when there is nothing to add. A change that
    alters values without a reason is refused."""
    from tolok.store.definitions import compute_hash

    old, new = draft.before.project, draft.after.project
    altered = []
    if old is not None and new is not None:
        shared = [n for n in new.kpis if n in old.kpis]
        altered = [n for n in shared if compute_hash(old, n) != compute_hash(new, n)]
    if altered and reason is None:
        said = say("this change alters the values of {kpis}: say why in `reason` (it is the "
                   "new definition version's reason)", kpis=", ".join(altered))  # fmt: skip
        raise ApiError(422, said.worded(voice), "reason")
    named = wanted.section == "kpis" and wanted.definition is not None
    if reason is None or not (altered or named):
        return None
    extra = [
        Change("kpis", kpi, {"changelog": reason}, merge=True)
        for kpi in altered
        if not (named and kpi == wanted.name)
    ]
    if named:
        assert wanted.definition is not None
        definition = {**wanted.definition, "changelog": reason}
        wanted = Change(wanted.section, wanted.name, definition, wanted.merge, wanted.new)
    return [wanted, *extra]


def refused(request: Request, exc: edit.EditError) -> ApiError:
    spoken = spoken_in(request)
    if isinstance(exc, edit.InvalidError):
        problems = [located(p, spoken) for p in exc.problems]
        said = say("the change does not validate: nothing was written")
        return ApiError(422, said.worded(spoken), None, extra={"problems": problems})
    if isinstance(exc, edit.ConflictError):
        said = say("{file} changed since the definition was read: nothing was written; compare "
                   "both versions and send the change again with the new fingerprints",
                   file=exc.file)  # fmt: skip
        extra = {"file": exc.file, "current": exc.current, "proposed": exc.proposed}
        return ApiError(409, said.worded(spoken), "fingerprints", extra=extra)
    if isinstance(exc, edit.MissingError):
        return _missing(request, exc.section, exc.name)
    if isinstance(exc, edit.TakenError):
        said = say("'{name}' is already defined in {file}", name=exc.name, file=exc.file)
        return ApiError(409, said.worded(spoken), "name")
    return ApiError(400, str(exc))


def located(found: edit.Located, spoken: Voice | None) -> dict[str, Any]:
    problem = found.problem
    return {
        "code": problem.code,
        "message": problem.message_in(spoken),
        "hint": problem.hint_in(spoken),
        "path": list(found.path),
        "file": found.file,
        "line": problem.where.line,
        "column": problem.where.col,
    }

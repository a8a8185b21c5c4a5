"""The API's data routes: targets set by people, manual values, rows ingested into a
dataset (see `api` for what every route shares)."""

from __future__ import annotations

import csv
import json
import logging
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from tolok.auth.roles import Action
from tolok.display import ALLOWED, within_range
from tolok.server import idempotency
from tolok.server import models as m
from tolok.server.errors import ApiError
from tolok.server.idempotency import KeyedRequest
from tolok.server.security import Principal, need, signed_in, state_of
from tolok.spec.models import Project

if TYPE_CHECKING:
    from tolok.engine.ingest import Incoming, IngestReport
    from tolok.server.state import State

from tolok.server.api import (
    ERRORS,
    Limit,
    Offset,
    _audit_out,
    _kpi,
    _loaded,
    _project,
    cached,
    page,
)

router = APIRouter(prefix="/api/v1", responses=ERRORS)
log = logging.getLogger("tolok.server")
MAX_BODY = 50 * 1024 * 1024


# --- targets and manual values -------------------------------------------------------------


@router.put("/kpis/{name}/targets", response_model=m.TargetSet, tags=["kpis"])
def set_target(
    request: Request, name: str, body: m.TargetIn,
    principal: Annotated[Principal, Depends(signed_in)],
) -> dict[str, Any]:  # fmt: skip
    """Set a KPI's target for one period (and slice); it wins over the YAML's."""
    return put_target(request, principal, name, body.period, body.value, body.by)


def put_target(
    request: Request,
    principal: Principal,
    name: str,
    period: str,
    value: float,
    by: dict[str, str] | None,
) -> dict[str, Any]:
    """A target set by `principal` (the API and the data-entry form)."""
    from tolok.store.manual import EntryError
    from tolok.store.targets import set_target as store_target

    project = _project(request)
    _kpi(project, name)
    if not principal.can_edit_kpi(Action.set_targets, project.kpis[name].owner):
        raise ApiError(403, "your role or token does not allow setting targets")
    if not within_range(value):  # the API's model says so first; the form's caller too
        raise ApiError(422, f"value: must be {ALLOWED}", "value")
    with Session(state_of(request).engine) as session, session.begin():
        try:
            before = store_target(session, project, name, period, value, by or {}, principal.email)
        except EntryError as exc:
            raise ApiError(400, str(exc)) from None
    return {"kpi": name, "period": period, "value": value, "before": before}


def _manual(project: Project, name: str) -> None:
    dataset = project.datasets.get(name)
    if dataset is None:
        raise ApiError(404, f"no dataset named '{name}'", "name")
    if not dataset.is_manual:
        raise ApiError(400, f"'{name}' is not a manual dataset (source: manual)", "name")


@router.get("/datasets/{name}/values", response_model=m.Page[m.ValueOut], tags=["data"])
def list_values(
    request: Request, name: str, _: Annotated[Principal, Depends(need(Action.read))],
    limit: Limit = 100, offset: Offset = 0,
) -> Response:  # fmt: skip
    """The values typed into a manual dataset."""
    from tolok.store.manual import manual_values

    _manual(_project(request), name)
    with Session(state_of(request).engine) as session:
        items = [
            {"measure": v.measure, "grain": v.grain.value, "period": v.period,
             "slice": v.slice, "value": v.value}
            for v in manual_values(session, name)
        ]  # fmt: skip
    items.sort(key=lambda v: (v["measure"], v["period"], json.dumps(v["slice"])))
    return cached(request, page(request, items, limit, offset))


@router.post("/datasets/{name}/values", response_model=m.Entered, tags=["data"])
def enter_values(
    request: Request, name: str, body: list[m.ValueIn],
    principal: Annotated[Principal, Depends(need(Action.enter_values))],
) -> dict[str, int]:  # fmt: skip
    """Enter values of a manual dataset, all or none; entering a key again is an edit."""
    from tolok.store.manual import EntryError, make_entry

    project = _project(request)
    _manual(project, name)
    if not body:
        raise ApiError(400, "send at least one value")
    entries = []
    for index, item in enumerate(body):
        try:
            entries.append(make_entry(project, name, item.measure, item.period, item.value,
                                      item.by, index + 1))  # fmt: skip
        except EntryError as exc:
            raise ApiError(400, f"value {index + 1}: {exc}", f"{index}") from None
    return store_values(request, principal, entries)


def store_values(request: Request, principal: Principal, entries: list[Any]) -> dict[str, int]:
    """Manual values entered by `principal` (the API and the data-entry page), then a
    refresh soon, so KPIs that read them show them."""
    from tolok.store.manual import enter

    state = state_of(request)
    with Session(state.engine) as session, session.begin():
        outcomes = enter(session, _project(request), entries, principal.email)
    if state.refresher is not None:
        state.refresher.soon()
    edited = sum(o.before is not None for o in outcomes)
    return {"entered": len(outcomes) - edited, "edited": edited}


@router.get("/datasets/{name}/values/history", response_model=m.Page[m.AuditOut], tags=["data"])
def value_history(
    request: Request, name: str, _: Annotated[Principal, Depends(need(Action.read))],
    limit: Limit = 100, offset: Offset = 0,
) -> Response:  # fmt: skip
    """Every entry and edit of a manual dataset's values: who, when, from what to what."""
    from tolok.store.manual import audit_trail

    _manual(_project(request), name)
    with Session(state_of(request).engine) as session:
        items = [_audit_out(e) for e in audit_trail(session, f"{name}.")]
    return cached(request, page(request, items, limit, offset))


# --- ingestion -----------------------------------------------------------------------------


@router.post("/datasets/{name}/rows", response_model=m.Ingested, tags=["data"],
             responses={409: {"model": m.ErrorBody, "description": "The Idempotency-Key came "
                              "with other rows before."},
                        413: {"model": m.ErrorBody}, 415: {"model": m.ErrorBody}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                 "application/x-ndjson": {"schema": {"type": "string"}},
                 "text/csv": {"schema": {"type": "string"}}}}})  # fmt: skip
async def ingest_rows(
    request: Request, response: Response, name: str,
    principal: Annotated[Principal, Depends(signed_in)],
) -> dict[str, Any]:  # fmt: skip
    """Append rows to a dataset's table: a JSON array, NDJSON or CSV. Each row is checked;
    one bad row and nothing is written. Rows whose key is in the table already add nothing.
    A body sent again with the same `Idempotency-Key` (within a day) gets the first answer
    again, with `Idempotent-Replayed: true`; the key with another body gets 409. An
    incremental refresh follows."""
    project = _project(request)
    dataset = project.datasets.get(name)
    if dataset is None:
        raise ApiError(404, f"no dataset named '{name}'", "name")
    if not principal.can(Action.ingest, name) and not (
        principal.scopes is None and principal.can(Action.ingest)
    ):
        raise ApiError(403, f"your role or token does not allow ingesting into {name}")
    if dataset.table is None:
        reads = "a query (source: {sql: …})" if dataset.sql is not None else dataset.source
        raise ApiError(400, f"'{name}' reads {reads}: rows go into warehouse tables")
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ApiError(413, f"send at most {MAX_BODY // 1024 // 1024} MB per request")
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip()
    suffix = {"application/json": ".json", "application/x-ndjson": ".jsonl",
              "application/jsonl": ".jsonl", "text/csv": ".csv"}.get(kind)  # fmt: skip
    if suffix is None:
        raise ApiError(415, "send application/json (an array), application/x-ndjson or text/csv")
    key = request.headers.get(idempotency.HEADER)
    keyed = None if key is None else idempotency.KeyedRequest.of(
        principal.user_id, key, name, suffix, raw)  # fmt: skip
    answer, replayed = await _ingest(request, name, raw, suffix, keyed)
    if replayed:
        response.headers[idempotency.REPLAYED] = "true"
    return answer


async def _ingest(
    request: Request, name: str, raw: bytes, suffix: str, keyed: KeyedRequest | None
) -> tuple[dict[str, Any], bool]:
    """The body's rows checked and written in a worker thread, through the server's one
    warehouse connection; no temporary file. With a key: the first answer to it, if any."""
    from starlette.concurrency import run_in_threadpool

    from tolok.engine.errors import WarehouseError
    from tolok.engine.ingest import IngestError
    from tolok.engine.locks import WarehouseBusyError

    incoming = _incoming(raw, suffix)
    header = 1 if suffix == ".csv" else 0  # a CSV's first line names the columns
    loaded = _loaded(request)
    state = state_of(request)

    def write() -> tuple[dict[str, Any], bool]:
        if keyed is None:
            return _written(state, state.ingest(loaded, name, incoming, None), header), False
        with state.keyed:  # one request per key at a time: a retry waits for the first
            first = idempotency.recall(state.engine, keyed)
            if first is not None:
                return first, True
            report = state.ingest(loaded, name, incoming, keyed.engine_key)
            answer = _written(state, report, header)
            return idempotency.remember(state.engine, keyed, answer), False

    try:
        return await run_in_threadpool(write)
    except IngestError as exc:
        problems = [_problem(p, header) for p in exc.problems[:100]]
        raise ApiError(422, exc.message, None, extra={"problems": problems}) from None
    except WarehouseBusyError as exc:  # who holds it (a path, a command line) is logged only
        log.warning("ingestion into %s waited in vain: %s", name, exc.message)
        raise ApiError(409, "the warehouse is in use by another program (a `tolok refresh`?); "
                       "nothing was written: send the rows again shortly", None,
                       {"Retry-After": "5"}) from None  # fmt: skip
    except WarehouseError as exc:
        raise ApiError(422, exc.message) from None
    except csv.Error as exc:
        raise ApiError(400, f"the CSV cannot be read: {exc}") from None
    except ApiError:
        raise
    except Exception as exc:  # the warehouse refused (a name clash, a conflict): say so
        log.exception("ingestion into %s failed", name)
        first = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        raise ApiError(422, f"the warehouse did not take these rows: {first}") from None


def _incoming(raw: bytes, suffix: str) -> Incoming:
    from tolok.engine.ingest import Incoming

    if suffix != ".json":
        return Incoming.body(raw, "csv" if suffix == ".csv" else "jsonl")
    try:
        rows = json.loads(raw or b"null")
    except ValueError as exc:
        raise ApiError(400, f"the body is not JSON: {exc}") from None
    except RecursionError:
        raise ApiError(400, "the body is nested too deeply to be rows") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ApiError(400, "send a JSON array of objects, one per row")
    return Incoming.records(rows)


def _problem(p: Any, header: int) -> dict[str, Any]:
    where = f"column '{p.column}': " if p.column else ""
    return {"row": p.line - header, "reason": where + p.described("row", header)}


def _written(state: State, report: IngestReport, header: int) -> dict[str, Any]:
    """The answer to rows taken; an incremental refresh is set off when any were new."""
    written = report.written > 0
    if written and state.refresher is not None:
        state.refresher.soon()
    return {"accepted": report.written, "duplicates": report.duplicates,
            "rejected": report.rejected, "repeat": report.already,
            "problems": [_problem(p, header) for p in report.problems],
            "refresh": "scheduled" if written and state.refresher else "none"}  # fmt: skip

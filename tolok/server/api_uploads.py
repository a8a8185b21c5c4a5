"""The builder's "Add data" API: a CSV or .xlsx file uploaded and proposed as a dataset, or a
warehouse table proposed the same way, then saved as the editor settled it.

`POST /uploads` stages the file (`.tolok/uploads/`, never the data folder) and answers its
first rows, each column's detected type, the proposal and the bad rows by line. `POST
/uploads/{id}/dataset` copies it into `data/` and writes the dataset with the definitions
API's own commit (validated with the whole project, refused when a file changed since its
fingerprints, audited); a refusal removes the copy again. `GET /warehouse/tables` lists the
warehouse's tables, `GET /warehouse/tables/{table}` proposes one, `POST
/warehouse/tables/{table}/dataset` writes a dataset over it. (Not under `/datasets/`, whose
`{name}` routes would take `from-upload` for a dataset's name.) Who may: what adding a
dataset asks (the definitions API's `writer`, then an editor's role);
`TOLOK_READONLY_DEFINITIONS` turns it off.
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from tolok.builder.upload import SHEET_SUFFIXES, TEXT_SUFFIXES, Kind, Upload, UploadError
from tolok.builder.upload_proposal import MeasurePlan, Proposal, propose
from tolok.builder.upload_save import (
    AGGS,
    BadRowsError,
    ChoiceError,
    DatasetChoice,
    check_choice,
    discard,
    prepare_file,
    stage,
    staged,
    table_change,
    table_upload,
    warehouse_tables,
)
from tolok.engine.rows import RowProblem
from tolok.server import models as m
from tolok.server.api_definitions import ANSWERS, EDIT, commit, spoken_in, writer
from tolok.server.errors import ApiError
from tolok.server.security import Principal, state_of
from tolok.spec.problems import Text, say

router = APIRouter(prefix="/api/v1", responses=ANSWERS)
MAX_UPLOAD = 50 * 1024 * 1024
"""As much as one ingestion request may send."""
PREVIEW = 20
READABLE = (*SHEET_SUFFIXES, *TEXT_SUFFIXES, "")
Writer = Annotated[Principal, Depends(writer)]
UploadId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
TableName = Annotated[str, Path(max_length=200)]


# --- what the routes answer ----------------------------------------------------------------


class ColumnOut(BaseModel):
    name: str
    kind: Kind = Field(description="date, datetime, integer, decimal, boolean, text, id, empty")
    distinct: int = Field(description="Distinct values among the rows read.")
    empty: int
    numeric: bool


class RowOut(BaseModel):
    line: int = Field(description="The row's line in the file (a sheet's row number).")
    values: list[str]


class MeasureOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,99}$")
    agg: str = Field(description=f"One of {', '.join(AGGS)}.")
    column: str | None = Field(None, max_length=300, description="None for a count of rows.")


class ProposalOut(BaseModel):
    name: str
    time: str | None
    dimensions: list[str]
    measures: list[MeasureOut]


class ProblemOut(BaseModel):
    line: int
    column: str | None
    reason: str


class UploadOut(BaseModel):
    """A file or table read: what the "Add data" form shows."""

    upload: str | None = Field(description="The staged upload's id (None for a table).")
    file: str
    sheet: str | None
    sheets: list[str]
    encoding: str | None
    delimiter: str | None
    rows: int = Field(description="Rows read (a table: at most its first 1000).")
    columns: list[ColumnOut]
    first: list[RowOut]
    proposal: ProposalOut
    problems: list[ProblemOut]
    aggregations: list[str]


class TableOut(BaseModel):
    name: str
    columns: list[dict[str, str]]


class TablesOut(BaseModel):
    items: list[TableOut]


class ChoiceIn(BaseModel):
    """The dataset as the editor settled it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=m.DEFINITION_NAME)
    time: str | None = Field(None, max_length=300)
    dimensions: list[str] = Field(default_factory=list, max_length=200)
    measures: list[MeasureOut] = Field(default_factory=list, max_length=200)
    types: dict[str, Kind] = Field(
        default_factory=dict, description="Columns whose detected type is corrected."
    )
    sheet: str | None = Field(None, max_length=200, description="A workbook's sheet.")
    fingerprints: m.Fingerprints = None

    def choice(self) -> DatasetChoice:
        measures = [MeasurePlan(x.name, x.agg, x.column) for x in self.measures]
        return DatasetChoice(self.name, self.time or None, self.dimensions, measures, self.types)


class SavedOut(m.DefinitionWritten):
    data_file: str | None = Field(description="Where the file was copied (None for a table).")


# --- routes ---------------------------------------------------------------------------------


@router.post("/uploads", response_model=UploadOut, status_code=201, tags=["builder"],
             responses={413: {"model": m.ErrorBody}, 415: {"model": m.ErrorBody,
                        "description": "Not a CSV file or an Excel workbook."}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "multipart/form-data": {"schema": {"type": "object", "properties": {
                     "file": {"type": "string", "format": "binary"},
                     "sheet": {"type": "string"}}, "required": ["file"],
                     "additionalProperties": False}}}}})  # fmt: skip
async def post_upload(request: Request, principal: Writer) -> dict[str, Any]:
    """Stage a CSV or .xlsx file (multipart field `file`, `sheet` for a workbook's sheet):
    its first rows, the detected types, the proposed dataset and the bad rows by line."""
    _editor(request, principal)
    form = await request.form(max_files=1, max_fields=5)
    unknown = sorted(set(form.keys()) - {"file", "sheet"})
    if unknown:
        said = say("unknown field '{field}': send `file` and, for a workbook, `sheet`",
                   field=unknown[0])  # fmt: skip
        raise ApiError(400, _said(request, said), unknown[0])
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        raise ApiError(400, _said(request, say("send the file in the multipart field `file`")),
                       "file")  # fmt: skip
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        said = say("the file is over {n} MB", n=MAX_UPLOAD // 1024 // 1024)
        raise ApiError(413, _said(request, said), "file")
    sheet = form.get("sheet")
    name = file.filename
    upload = await run_in_threadpool(_read, request, data, name, sheet)
    upload_id = stage(state_of(request).root, data, name)
    return _answer(request, upload, upload_id)


@router.get("/uploads/{upload_id}", response_model=UploadOut, tags=["builder"])
def get_upload(
    request: Request, upload_id: UploadId, principal: Writer,
    sheet: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:  # fmt: skip
    """A staged upload read again (another `sheet` of a workbook)."""
    _editor(request, principal)
    try:
        upload = staged(state_of(request).root, upload_id, _zone(request), sheet)
    except UploadError as exc:
        raise ApiError(404, _said(request, exc.said), "upload") from None
    return _answer(request, upload, upload_id)


@router.post("/uploads/{upload_id}/dataset", response_model=SavedOut, status_code=201,
             tags=["builder"])  # fmt: skip
def post_dataset_from_upload(
    request: Request, upload_id: UploadId, body: ChoiceIn, principal: Writer
) -> dict[str, Any]:
    """Save a staged upload: the file into `data/`, the dataset into the YAML. Bad rows,
    a column the file lacks or a project that would not validate: 422, nothing written."""
    _editor(request, principal)
    state = state_of(request)
    zone = _zone(request)
    try:
        upload = staged(state.root, upload_id, zone, body.sheet)
    except UploadError as exc:
        raise ApiError(404, _said(request, exc.said), "upload") from None
    choice = body.choice()
    _check(request, upload, choice, zone)
    target, change = prepare_file(state.root, upload, choice)
    try:
        answer = commit(request, principal, change, None, body.fingerprints, "created")
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    discard(state.root, upload_id)
    return {**answer, "data_file": target.relative_to(state.root).as_posix()}


@router.get("/warehouse/tables", response_model=TablesOut, tags=["builder"])
def get_warehouse_tables(request: Request, principal: Writer) -> dict[str, Any]:
    """The warehouse's tables and their columns, to build a dataset over one."""
    _editor(request, principal)
    found = _warehouse(request, warehouse_tables)
    return {"items": [{"name": t.name, "columns": [{"name": c, "type": k} for c, k in t.columns]}
                      for t in found]}  # fmt: skip


@router.get("/warehouse/tables/{table}", response_model=UploadOut, tags=["builder"])
def get_warehouse_table(request: Request, table: TableName, principal: Writer) -> dict[str, Any]:
    """A warehouse table's first rows, its columns' types and the proposed dataset."""
    _editor(request, principal)
    upload = _table(request, table)
    return _answer(request, upload, None)


@router.post("/warehouse/tables/{table}/dataset", response_model=SavedOut, status_code=201,
             tags=["builder"])  # fmt: skip
def post_dataset_from_table(
    request: Request, table: TableName, body: ChoiceIn, principal: Writer
) -> dict[str, Any]:
    """A dataset over a warehouse table (nothing copied), validated like any definition."""
    _editor(request, principal)
    upload = _table(request, table)
    try:
        change = table_change(upload, body.choice())
    except ChoiceError as exc:
        raise ApiError(422, _said(request, exc.said), exc.field) from None
    answer = commit(request, principal, change, None, body.fingerprints, "created")
    return {**answer, "data_file": None}


# --- what the routes share -----------------------------------------------------------------


def _editor(request: Request, principal: Principal) -> None:
    """Adding data is an editor's (a viewer's team may change its KPIs' targets, no more)."""
    if not principal.can(EDIT):
        said = say("your role or token does not allow adding datasets")
        raise ApiError(403, _said(request, said))


def _zone(request: Request) -> ZoneInfo:
    project = state_of(request).project().project
    return ZoneInfo(project.timezone if project is not None else "UTC")


def _said(request: Request, text: Text) -> str:
    return text.worded(spoken_in(request))


def _read(request: Request, data: bytes, name: str, sheet: object) -> Upload:
    from tolok.builder.upload import read_upload

    try:
        return read_upload(data, name, _zone(request), sheet if isinstance(sheet, str) else None)
    except UploadError as exc:
        status = 415 if PurePath(name).suffix.lower() not in READABLE else 422
        raise ApiError(status, _said(request, exc.said), "file") from None


def _answer(request: Request, upload: Upload, upload_id: str | None) -> dict[str, Any]:
    loaded = state_of(request).project()
    project = loaded.project
    assert project is not None
    measures = {n for d in project.datasets.values() for n in d.measures}
    proposal = propose(upload.columns, len(upload.rows), upload.label, project.datasets, measures)
    return {
        "upload": upload_id,
        "file": upload.label,
        "sheet": upload.sheet,
        "sheets": upload.sheets,
        "encoding": upload.encoding if upload_id else None,
        "delimiter": upload.delimiter if upload_id and not upload.sheet else None,
        "rows": len(upload.rows),
        "columns": [c.__dict__ for c in upload.columns],
        "first": [{"line": line, "values": values} for line, values in upload.first(PREVIEW)],
        "proposal": _proposal(proposal),
        "problems": [_problem(request, p) for p in upload.problems[:100]],
        "aggregations": list(AGGS),
    }


def _proposal(proposal: Proposal) -> dict[str, Any]:
    return {
        "name": proposal.name,
        "time": proposal.time,
        "dimensions": proposal.dimensions,
        "measures": [{"name": p.name, "agg": p.agg, "column": p.column} for p in proposal.measures],
    }


def _problem(request: Request, problem: RowProblem) -> dict[str, Any]:
    """A bad row in the reader's language (ingest's sentences, as the terminal says them)."""
    from tolok.i18n import gettext
    from tolok.said import said_in

    asked = spoken_in(request)
    reason = problem.described()
    if asked is not None:
        words = gettext(asked.lang)
        reason = said_in(reason, words)
        for shape, template in _HEADER_SAID:
            found = shape.fullmatch(reason)
            if found is not None:
                reason = words(template, **found.groupdict())
    return {"line": problem.line, "column": problem.column, "reason": reason}


_HEADER_SAID = [
    (re.compile(r"column (?P<position>\d+) has no name: name it"),
     "column {position} has no name: name it"),
    (re.compile(r"the column name '(?P<name>.*)' appears twice: rename one of them"),
     "the column name '{name}' appears twice: rename one of them"),
]  # fmt: skip
"""A header's problems (see `upload`), said again in the reader's language."""


def _check(request: Request, upload: Upload, choice: DatasetChoice, zone: ZoneInfo) -> None:
    try:
        check_choice(upload, choice, zone)
    except ChoiceError as exc:
        raise ApiError(422, _said(request, exc.said), exc.field) from None
    except BadRowsError as exc:
        count = len(exc.problems)
        said = say("{n} bad rows in the file; nothing was written: correct them, or choose "
                   "another type or time column", n=count)  # fmt: skip
        problems = [_problem(request, p) for p in exc.problems[:100]]
        raise ApiError(422, _said(request, said), "rows", extra={"problems": problems}) from None


def _table(request: Request, name: str) -> Upload:
    try:
        found: Upload = _warehouse(request, lambda w: table_upload(w, name))
    except UploadError as exc:
        raise ApiError(404, _said(request, exc.said), "table") from None
    return found


def _warehouse(request: Request, use: Any) -> Any:
    """`use(warehouse)` over a connection of its own, closed after."""
    from tolok.engine.errors import WarehouseError
    from tolok.engine.warehouse import Warehouse

    warehouse = Warehouse(state_of(request).project(), wait=5)
    try:
        return use(warehouse)
    except WarehouseError as exc:
        raise ApiError(409, _said(request, say("the warehouse cannot be read now: {problem}",
                                               problem=str(exc.message)))) from None  # fmt: skip
    finally:
        warehouse.close()

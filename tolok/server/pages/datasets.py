"""The "Add data" page (`/datasets/new`): what the form offers — the types a column may be
read as, the aggregations a measure may use, the project's datasets and measures (whose
names a new one may not take) — and whether the reader may save here.

The page writes nothing itself: its script uploads the file to `POST /api/v1/uploads`
(`tolok/server/api_uploads.py`), shows the proposal, and saves through
`POST /api/v1/uploads/{id}/dataset` or `/api/v1/warehouse/tables/{table}/dataset`.
"""

from __future__ import annotations

from pydantic import BaseModel

from tolok.builder.upload import Kind
from tolok.builder.upload_save import AGGS
from tolok.i18n import voice
from tolok.server.api_definitions import EDIT, read_only
from tolok.server.api_uploads import MAX_UPLOAD
from tolok.server.pages.definitions import Choice
from tolok.server.web import Context
from tolok.spec import edit


class DatasetNewPage(BaseModel):
    datasets: list[str]
    measures: list[str]
    kinds: list[Choice]
    aggregations: list[Choice]
    roles: list[Choice]
    fingerprints: dict[str, str]
    max_mb: int
    can_save: bool
    read_only: str | None  # why nobody may add data here, in the reader's words
    not_allowed: str | None  # why this reader may not


def data(ctx: Context) -> DatasetNewPage:
    loaded = ctx.loaded
    refused = read_only(loaded)
    said = None
    if refused is not None:
        said = refused.worded(voice(ctx.lang) if ctx.lang != "en" else None)
    allowed = ctx.principal is not None and ctx.principal.can(EDIT)
    not_allowed = None if allowed else ctx._("Editors and admins may add data; your role may not.")
    project = ctx.project
    return DatasetNewPage(
        datasets=sorted(project.datasets),
        measures=sorted({m for d in project.datasets.values() for m in d.measures}),
        kinds=[Choice(value=k.value, label=_kind(ctx, k)) for k in Kind if k != Kind.empty],
        aggregations=[Choice(value=a, label=_agg(ctx, a)) for a in AGGS],
        roles=[
            Choice(value="ignore", label=ctx._("not used")),
            Choice(value="time", label=ctx._("time column")),
            Choice(value="dimension", label=ctx._("dimension")),
            Choice(value="measure", label=ctx._("measure")),
        ],
        fingerprints=edit.fingerprints(loaded),
        max_mb=MAX_UPLOAD // 1024 // 1024,
        can_save=allowed and refused is None,
        read_only=said,
        not_allowed=not_allowed,
    )


def _kind(ctx: Context, kind: Kind) -> str:
    _ = ctx._
    words = {
        Kind.date: _("date"), Kind.datetime: _("date and time"), Kind.integer: _("whole number"),
        Kind.decimal: _("decimal number"), Kind.boolean: _("true or false"), Kind.text: _("text"),
        Kind.id: _("identifier"), Kind.empty: _("empty"),
    }  # fmt: skip
    return words[kind]


def _agg(ctx: Context, agg: str) -> str:
    _ = ctx._
    words = {
        "sum": _("sum"), "count": _("count of rows"),
        "count_distinct": _("count of distinct values"),
        "avg": _("average"), "min": _("smallest"), "max": _("largest"), "median": _("median"),
    }  # fmt: skip
    return words.get(agg, agg)

"""The data-entry page and its forms: manual values (one, or a CSV file, all or nothing)
and targets set by people. Editors only; a problem is shown next to the field it is about."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from tolok.auth.roles import Action
from tolok.display import LARGEST, within_range
from tolok.i18n import parse_number
from tolok.server.errors import ApiError
from tolok.server.pages import entry as entry_page
from tolok.server.security import refuse, signed_in, state_of
from tolok.server.web import Context, context, reader, render
from tolok.spec.models import Unit

router = APIRouter(include_in_schema=False)
UPLOAD = 5 * 1024 * 1024  # a CSV of manual values: far more than anyone types


def _editor(ctx: Context) -> None:
    if not (ctx.can(Action.enter_values) or ctx.can(Action.set_targets)):
        raise ApiError(403, ctx._("Entering values and targets needs an editor's role."))


@router.get("/entry")
@router.get("/entry.json")
def entry(request: Request, done: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    """Forms for manual values and targets, and the latest entered."""
    ctx = reader(request)
    _editor(ctx)
    return _page(ctx, _notice(ctx, done))


def _notice(ctx: Context, done: str | None) -> str | None:
    words = {
        "values": ctx._("Saved. The KPIs that use these values are being refreshed."),
        "targets": ctx._("Target saved."),
    }
    return words.get(done or "")


def _page(ctx: Context, notice: str | None, problems: dict[str, str] | None = None) -> Response:
    page = entry_page.data(ctx, state_of(ctx.request).engine, notice)
    status = 400 if problems else 200
    return render(ctx, "entry.html", page, status, problems=problems or {})


async def _form(request: Request, action: Action) -> tuple[Context, FormData]:
    """The context and the form, once the role and a token's scopes allow `action`, as on
    the API; for a target only the scopes here, as the team owning its KPI may set it too
    (`put_target` asks the role)."""
    principal = await signed_in(request)
    ctx = context(request, principal)
    team = action is Action.set_targets
    if not (principal.scoped(action) if team else principal.can(action)):
        if principal.scopes is not None:
            raise refuse(action)  # a program: the API's words
        raise ApiError(403, ctx._("Entering values needs an editor's role."))
    return ctx, await request.form(max_part_size=UPLOAD)


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def _problem(ctx: Context, form: FormData, prefix: str, exc: ApiError | ValueError) -> Response:
    message = exc.message if isinstance(exc, ApiError) else str(exc)
    field = exc.field if isinstance(exc, ApiError) and exc.field else "value"
    kept = {f"value:{prefix}.{k}": v for k, v in form.items() if isinstance(v, str)}
    return _page(ctx, None, {f"{prefix}.{field}": message, f"{prefix}": message, **kept})


@router.post("/entry/values")
async def enter_value(request: Request) -> Response:
    """One value of a manual dataset's measure for a period (and slice)."""
    from tolok.server.api_data import store_values
    from tolok.store.manual import EntryError, make_entry

    ctx, form = await _form(request, Action.enter_values)
    dataset = _text(form, "dataset")
    by = {k[4:]: v.strip() for k, v in form.items() if k.startswith("dim:") and isinstance(v, str)}
    raw = _text(form, "value")
    try:
        value: str | float = parse_number(raw, ctx.lang)
    except ValueError:
        if raw.strip():
            return _problem(ctx, form, "values", _not_a_number(ctx, raw))
        value = raw  # make_entry says a value is needed
    if isinstance(value, float) and not within_range(value):
        return _problem(ctx, form, "values", _out_of_range(ctx))
    try:
        entry = make_entry(
            ctx.project, dataset, _text(form, "measure"), _text(form, "period"), value, by
        )
    except EntryError as exc:
        field = _field_of(exc.message)
        period = _text(form, "period")
        said = {  # in the page's language
            "period": ctx._(
                "'{value}' is not a period label: write one like 2026-03, 2026-Q1, 2026-W09 "
                "or 2026-03-15.",
                value=period,
            ),
            "value": _not_a_number(ctx, raw).message,
        }
        return _problem(ctx, form, "values", ApiError(400, said.get(field, exc.message), field))
    assert ctx.principal is not None
    await run_in_threadpool(store_values, request, ctx.principal, [entry])
    return RedirectResponse("/entry?done=values", 303)


def _not_a_number(ctx: Context, raw: str) -> ApiError:
    """A value that is no number, with one written in the page's language to copy."""
    from babel.numbers import format_decimal

    example = format_decimal(1234.5, locale=ctx.lang)  # 1.234,5 in Indonesian
    message = ctx._("'{value}' is not a number: write one like {example}.", value=raw,
                    example=example)  # fmt: skip
    return ApiError(400, message, "value")


def _out_of_range(ctx: Context) -> ApiError:
    """A number typed beyond what pages write in full (`1e30`, `NaN`, `inf`): the range."""
    low, high = (ctx.fmt.value(size, Unit.number) for size in (-LARGEST, LARGEST))
    return ApiError(400, ctx._("Write a number from {low} to {high}.", low=low, high=high), "value")


def _field_of(message: str) -> str:
    """Which field an entry problem is about, from what it says."""
    if "not a number" in message or "too large" in message:
        return "value"
    if "period" in message or "write 2026" in message:
        return "period"
    if "measure" in message:
        return "measure"
    if "dimension" in message:
        return "dimension"
    return "dataset"


@router.post("/entry/upload")
async def upload_values(request: Request) -> Response:
    """A CSV of values (`measure,period,value[,dimension…]`): every row or none."""
    from tolok.server.api_data import store_values
    from tolok.store.manual import EntryError, read_rows

    ctx, form = await _form(request, Action.enter_values)
    dataset = _text(form, "dataset")
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _problem(ctx, form, "upload", ApiError(400, ctx._("Choose a CSV file."), "file"))
    raw = await upload.read(UPLOAD + 1)
    if len(raw) > UPLOAD:
        return _problem(ctx, form, "upload", ApiError(400, ctx._("The file is over 5 MB."), "file"))
    try:
        text = raw.decode("utf-8-sig")
        entries = read_rows(ctx.project, dataset, text.splitlines())
    except UnicodeDecodeError:
        message = ctx._("The file is not UTF-8 text: save it as CSV UTF-8.")
        return _problem(ctx, form, "upload", ApiError(400, message, "file"))
    except EntryError as exc:
        where = ctx._("line {line}: ", line=exc.line) if exc.line else ""
        return _problem(ctx, form, "upload", ApiError(400, where + exc.message, "file"))
    if not entries:
        return _problem(ctx, form, "upload", ApiError(400, ctx._("The file has no rows."), "file"))
    assert ctx.principal is not None
    await run_in_threadpool(store_values, request, ctx.principal, entries)
    return RedirectResponse("/entry?done=values", 303)


@router.post("/entry/targets")
async def set_target(request: Request) -> Response:
    """A KPI's target for one period, set by a person (it wins over the YAML's)."""
    from tolok.server.api_data import put_target

    ctx, form = await _form(request, Action.set_targets)
    name, period, raw = _text(form, "kpi"), _text(form, "period"), _text(form, "value")
    try:
        value = parse_number(raw, ctx.lang)
    except ValueError:
        return _problem(ctx, form, "targets", _not_a_number(ctx, raw))
    if not within_range(value):
        return _problem(ctx, form, "targets", _out_of_range(ctx))
    if name not in ctx.project.kpis:
        return _problem(ctx, form, "targets", ApiError(400, ctx._("Choose a KPI."), "kpi"))
    if not period:
        message = ctx._("Write the period, e.g. 2026-03.")
        return _problem(ctx, form, "targets", ApiError(400, message, "period"))
    assert ctx.principal is not None
    try:
        await run_in_threadpool(put_target, request, ctx.principal, name, period, value, None)
    except ApiError as exc:
        if exc.status == 403:
            raise
        return _problem(ctx, form, "targets", ApiError(400, exc.message, exc.field or "period"))
    return RedirectResponse("/entry?done=targets", 303)

"""The definition editor's page: a KPI's definition as a form, for every signed-in reader;
editors and admins save it through the definitions API (`/api/v1/kpis/{name}/definition`),
which the page's script calls with the session's CSRF token and the fingerprints read here.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from tolok.server.errors import ApiError
from tolok.server.pages import definitions as definitions_page
from tolok.server.security import state_of
from tolok.server.web import reader, render

router = APIRouter(include_in_schema=False)


@router.get("/kpis/{name}/edit")
@router.get("/kpis/{name}/edit.json")
def edit_kpi(request: Request, name: str) -> Response:
    """A KPI's definition to change (or, for whom may not, to read)."""
    ctx = reader(request)
    if ("kpis", name) not in ctx.loaded.entries:
        raise ApiError(404, ctx._("There is no KPI called '{name}'.", name=name), "name")
    page = definitions_page.data(ctx, state_of(request).engine, name)
    return render(ctx, "definition.html", page, defaults=definitions_page.DEFAULTS)

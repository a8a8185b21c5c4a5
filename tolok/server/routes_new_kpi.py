"""The "Add a KPI" page (`/kpis/new`): for every signed-in reader; editors and admins save
through the builder's API (`api_builder.py`) and `POST /api/v1/kpis`, which the page's
script calls with the session's CSRF token and the fingerprints read here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from tolok.server.pages import new_kpi
from tolok.server.security import state_of
from tolok.server.web import reader, render

router = APIRouter(include_in_schema=False)


@router.get("/kpis/new")
@router.get("/kpis/new.json")
def new_kpi_page(
    request: Request,
    dataset: Annotated[str | None, Query(max_length=100)] = None,
    template: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """A new KPI: from the catalog or from scratch; `?dataset=` preselects a dataset,
    `?template=` a catalog template."""
    ctx = reader(request)
    page = new_kpi.data(ctx, state_of(request).engine, dataset, template)
    return render(ctx, "kpi_new.html", page, defaults=new_kpi.DEFAULTS)

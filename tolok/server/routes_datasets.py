"""The "Add data" page: a CSV or Excel file (or a warehouse table) made a dataset, for every
signed-in reader to open; editors and admins save it through the builder's upload API
(`api_uploads.py`), which the page's script calls with the session's CSRF token.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from tolok.server.pages import datasets
from tolok.server.web import reader, render

router = APIRouter(include_in_schema=False)


@router.get("/datasets/new")
@router.get("/datasets/new.json")
def new_dataset(request: Request) -> Response:
    """Upload a file, see its rows and the proposed dataset, correct it, save it."""
    ctx = reader(request)
    return render(ctx, "dataset_new.html", datasets.data(ctx))

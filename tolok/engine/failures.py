"""One KPI failing at run time does not stop the others.

A 400-digit literal once passed validation, met a float in one KPI's formula and ended the
whole refresh: nothing was stored for any KPI. Now a batch that fails is computed again KPI
by KPI; those that fail alone are reported with the place in the YAML to look at, and the
rest are stored. What no KPI can get past — the warehouse cannot be reached, the store
fails — still ends the refresh: retrying it per KPI would only repeat it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from tolok.compile.errors import CompileError
from tolok.engine.errors import WarehouseError
from tolok.spec.formula import FormulaError
from tolok.spec.loaded import LoadedProject
from tolok.spec.problems import Location, Text
from tolok.spec.source import locate_in_scalar
from tolok.store.errors import StoreError

if TYPE_CHECKING:  # what computes is imported when something is computed
    from tolok.engine.aggregates import KeptAggregates
    from tolok.engine.series import KpiSeries, Request
    from tolok.engine.shapes import Shapes
    from tolok.engine.warehouse import Warehouse


@dataclass(frozen=True)
class Failure:
    """Why a KPI was not computed, where to look (its dataset's source, its formula…), and
    what to do."""

    kpi: str
    message: str
    where: Location | None
    hint: str | None = None
    said: Text | None = field(default=None, compare=False)
    """The message as a `say(…)` text, for the terminal to word in its reader's language."""
    hinted: Text | None = field(default=None, compare=False)


def compute_each(
    loaded: LoadedProject,
    warehouse: Warehouse,
    request: Request,
    progress: Callable[[str], None] | None,
    kept: KeptAggregates | None,
    failed: dict[str, Failure],
    shapes: Shapes | None = None,
) -> dict[str, KpiSeries]:
    """`compute` for the batch; if it fails, for each of its KPIs on its own, adding those
    that fail to `failed`. KPIs already in `failed` (at another breakdown) are left out."""
    names = tuple(n for n in request.kpis if n not in failed)
    if not names:
        return {}
    from tolok.engine.compute import compute

    try:
        return compute(loaded, warehouse, replace(request, kpis=names), progress, kept, shapes)
    except Exception as exc:
        if is_global(warehouse, exc) or len(names) == 1:
            _fail(loaded, warehouse, names[0], exc, failed)
            return {}
    out: dict[str, KpiSeries] = {}
    for name in names:
        try:
            alone = replace(request, kpis=(name,))
            out.update(compute(loaded, warehouse, alone, progress, kept, shapes))
        except Exception as exc:
            _fail(loaded, warehouse, name, exc, failed)
    return out


def _fail(
    loaded: LoadedProject,
    warehouse: Warehouse,
    name: str,
    exc: Exception,
    failed: dict[str, Failure],
) -> None:
    if is_global(warehouse, exc):
        raise exc
    failed[name] = failure_of(loaded, name, exc)


def is_global(warehouse: Warehouse, exc: BaseException) -> bool:
    """An error no KPI gets past: the warehouse (its connection, its lock), the store,
    memory."""
    if isinstance(exc, SQLAlchemyError | StoreError | MemoryError):
        return True
    return isinstance(exc, WarehouseError) and exc.where == warehouse._setting()


def failure_of(loaded: LoadedProject, name: str, exc: Exception) -> Failure:
    """What to tell about a KPI that failed: a data error says where it is; anything else
    points at the KPI's formula."""
    if isinstance(exc, WarehouseError):
        where = exc.where or _formula(loaded, name)
        return Failure(name, exc.message, where, exc.hint, exc.said, exc.hinted)
    if isinstance(exc, CompileError):
        return Failure(name, exc.message, _formula(loaded, name), getattr(exc, "hint", None))
    if isinstance(exc, FormulaError):
        return Failure(name, exc.message, _in_formula(loaded, name, exc.span.start), exc.hint)
    return Failure(
        name,
        f"KPI '{name}' cannot be computed ({_what(exc)})",
        _formula(loaded, name),
        "check the formula and the data it reads; the other KPIs were computed",
    )


def _in_formula(loaded: LoadedProject, name: str, offset: int) -> Location | None:
    """The very place in the KPI's formula, as validation would point at it."""
    where = _formula(loaded, name)
    entry = loaded.entries.get(("kpis", name))
    raw = loaded.raw("kpis", name, "formula") if where is not None and entry else None
    if where is None or entry is None or not isinstance(raw, str):
        return where
    return locate_in_scalar(entry.file, where, raw, offset)


def _formula(loaded: LoadedProject, name: str) -> Location | None:
    if ("kpis", name) not in loaded.entries:
        return None
    node = loaded.entries[("kpis", name)].node
    has_formula = hasattr(node, "get") and node.get("formula") is not None
    return loaded.locate("kpis", name, "formula") if has_formula else loaded.locate("kpis", name)


def observe_failure(loaded: LoadedProject, name: str, dataset: str, exc: Exception) -> Failure:
    """A KPI not computed because one of its datasets could not be looked at."""
    if isinstance(exc, WarehouseError):
        where = exc.where or _dataset(loaded, dataset)
        return Failure(name, exc.message, where, exc.hint, exc.said, exc.hinted)
    return Failure(
        name,
        f"dataset '{dataset}' cannot be read ({_what(exc)})",
        _dataset(loaded, dataset),
        "check the dataset's source; the KPIs that do not read it were computed",
    )


def _dataset(loaded: LoadedProject, dataset: str) -> Location | None:
    """Where the dataset's source was written (its name, without one)."""
    entry = loaded.entries.get(("datasets", dataset))
    if entry is None:
        return None
    has_source = hasattr(entry.node, "get") and entry.node.get("source") is not None
    return loaded.locate("datasets", dataset, *(("source",) if has_source else ()))


def _what(exc: Exception) -> str:
    detail = str(exc).splitlines()[0] if str(exc) else ""
    return type(exc).__name__ + (f": {detail}" if detail else "")

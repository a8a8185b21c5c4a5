"""Forecast backtest on the example project: one-step forecasts of each KPI's last six
months from the months before, scored as MASE against the seasonal-naive forecast.

    python bench/forecast_backtest.py [--project examples/toko] [--folds 6]

MASE < 1: the model beats "the same month last year" (or "last month" when the history
holds less than two years at the time of the forecast).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from tolok.engine.compute import Request, compute
from tolok.engine.warehouse import Warehouse
from tolok.spec import load_project
from tolok.track.forecast import backtest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--project", type=Path, default=Path(__file__).parent.parent / "examples" / "toko"
    )
    parser.add_argument("--folds", type=int, default=6)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tolok-backtest-")) / "project"
    shutil.copytree(args.project, folder, ignore=shutil.ignore_patterns("*.duckdb*", "tolok.db*"))
    loaded = load_project(folder)
    assert loaded.project is not None
    assert loaded.ok
    project = loaded.project
    warehouse = Warehouse(loaded)
    print(f"{'kpi':<24}{'months':>7}{'season':>7}{'MAE model':>14}{'MAE naive':>14}{'MASE':>7}")
    scores = []
    began = time.perf_counter()
    for name, kpi in project.kpis.items():
        series = compute(loaded, warehouse, Request((name,), kpi.grain))[name]
        points = [(p.period, p.value) for p in series.points]
        closed = points[:-1]  # the last period is still open
        result = backtest(closed, kpi.grain, args.folds)
        if result is None:
            print(f"{name:<24}{len(closed):>7}  (not enough history)")
            continue
        scores.append(result.mase)
        print(
            f"{name:<24}{len(closed):>7}{result.season:>7}{result.model_mae:>14.4g}"
            f"{result.naive_mae:>14.4g}{result.mase:>7.2f}"
        )
    print(
        f"median MASE over {len(scores)} KPIs: {statistics.median(scores):.2f} "
        f"({sum(s < 1 for s in scores)} of {len(scores)} beat seasonal naive); "
        f"{time.perf_counter() - began:.1f} s"
    )


if __name__ == "__main__":
    main()

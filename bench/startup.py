"""Benchmark: the fixed cost of tolok's commands, each a new process as a user runs it.

    python bench/startup.py --rounds 9
    python bench/startup.py --rounds 7 --data bench/data     # also the 10 M rows of run.py
    python bench/startup.py --against /tmp/before   # and another tree of tolok, same rounds

The project is the one `tolok init` makes (the e-commerce template, about 390,000 rows over
two years, a DuckDB warehouse and an SQLite store), with one change: each dataset's Parquet
file is a folder of files (`data/<name>/*.parquet`), its last days held back, so that a
round can add one new day as one new file per dataset, as a daily export does. Commands:

- `python -c pass`: the floor of any Python command;
- `tolok validate`, `tolok kpis`, `tolok show <first KPI>` (answered from the store);
- `tolok refresh` with nothing to do (right after another refresh, no new data);
- `tolok refresh` after one new day (a file per dataset added just before, untimed);
- `tolok refresh --full`.

Rounds are interleaved (each round runs every command once, the no-op refresh right after a
refresh) and a first round warms the file caches untimed. Printed per command: the median
and 90th percentile of wall time and of CPU time (user + system, from `wait4`), and the
median's difference above `python -c pass`; the 1-minute load average before and after.
With `--against FOLDER` (another checkout of tolok, e.g. `git archive HEAD | tar -x -C
/tmp/before`), its commands run too, in the same rounds, on a project of their own (its
modules first on `PYTHONPATH`): a comparison that a change in the machine's load does not
tilt.

With `--data` (the files of `bench/generate.py`: 10 M orders, 30 M sessions), the same
refresh commands also run on bench/run.py's project over them, Parquet and native DuckDB
tables, for `tolok refresh --full` and the no-op refresh.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

HELD_BACK_EXTRA = 2  # days held back beyond one per round: the warm-up round and a spare


def tolok_command() -> list[str]:
    """The `tolok` script beside this Python (as a user runs it), else `python -m tolok`."""
    script = Path(sys.executable).with_name("tolok")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tolok"]


def sample_project(days_held: int) -> tuple[Path, list[Callable[[], None]]]:
    """The project of `tolok init`, its datasets as folders of Parquet files, the last
    `days_held` days of each taken out: one function per held day puts it back."""
    from tolok.catalog.init import create
    from tolok.spec.loader import load_project

    folder = Path(tempfile.mkdtemp(prefix="tolok-bench-startup-")) / "shop"
    create(folder, "ecommerce", "en")
    loaded = load_project(folder)
    assert loaded.project is not None
    text = (folder / "tolok.yaml").read_text(encoding="utf-8")
    held: dict[str, list[pa.Table]] = {}
    for name, dataset in loaded.project.datasets.items():
        old = f"file:data/{name}.parquet"
        if dataset.time is None or old not in text:
            continue
        table = pq.read_table(folder / "data" / f"{name}.parquet")
        days = _days(table.column(dataset.time))
        last = pc.max(days).as_py()
        first_held = last - dt.timedelta(days=days_held - 1)
        (folder / "data" / name).mkdir()
        kept = table.filter(pc.less(days, pa.scalar(first_held)))
        pq.write_table(kept, folder / "data" / name / "base.parquet")
        held[name] = [
            table.filter(pc.equal(days, pa.scalar(first_held + dt.timedelta(days=i))))
            for i in range(days_held)
        ]
        (folder / "data" / f"{name}.parquet").unlink()
        text = text.replace(old, f"file:data/{name}/*.parquet")
    (folder / "tolok.yaml").write_text(text, encoding="utf-8")

    def put_back(day: int) -> Callable[[], None]:
        def write() -> None:
            for name, tables in held.items():
                pq.write_table(tables[day], folder / "data" / name / f"day{day:03}.parquet")

        return write

    return folder, [put_back(i) for i in range(days_held)]


def _days(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_date(column.type):
        return column
    return pc.cast(column, pa.date32())


def timed(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU time (user + system) of one process; its output is dropped."""
    began = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - began
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            err.seek(0)
            problem = err.read().decode(errors="replace")[-3000:]
            raise SystemExit(f"{' '.join(argv)} failed ({code}):\n{problem}")
    return wall, usage.ru_utime + usage.ru_stime


Step = tuple[str, list[str], Callable[[], None] | None]
"""A command's label, its arguments and what to do before it, untimed."""
Way = tuple[Path, dict[str, str] | None, str]
"""Where commands run, their environment (None: this one) and a label's suffix."""


def steps(kpi: str, new_day: Callable[[], None], suffix: str = "") -> list[Step]:
    tolok = tolok_command()
    return [
        (f"tolok validate{suffix}", [*tolok, "validate"], None),
        (f"tolok kpis{suffix}", [*tolok, "kpis"], None),
        (f"tolok show {kpi}{suffix}", [*tolok, "show", kpi], None),
        (f"tolok refresh (nothing new){suffix}", [*tolok, "refresh"], None),
        (f"tolok refresh (+1 day){suffix}", [*tolok, "refresh"], new_day),
        (f"tolok refresh --full{suffix}", [*tolok, "refresh", "--full"], None),
    ]


PASS: Step = ("python -c pass", [sys.executable, "-c", "pass"], None)


def measure(
    ways: list[tuple[Way, Callable[[int], list[Step]]]], rounds: int
) -> dict[str, list[tuple[float, float]]]:
    times: dict[str, list[tuple[float, float]]] = {}
    for number in range(rounds + 1):  # round 0 warms up
        order = [(ways[0][0], PASS)] + [(way, step) for way, make in ways for step in make(number)]
        for (folder, env, _suffix), (label, argv, before) in order:
            if before is not None:
                before()
            took = timed(argv, folder, env)
            if number:
                times.setdefault(label, []).append(took)
        if number:
            print(f"  round {number}/{rounds} done, load {load_average()}", file=sys.stderr)
    return times


def report(times: dict[str, list[tuple[float, float]]]) -> None:
    floor = statistics.median(w for w, _ in times["python -c pass"])
    floor_cpu = statistics.median(c for _, c in times["python -c pass"])
    print(
        f"{'command':<44}{'wall med':>9}{'p90':>8}{'cpu med':>9}{'p90':>8}"
        f"{'wall-pass':>11}{'cpu-pass':>10}"
    )
    for label, took in times.items():
        walls, cpus = [w for w, _ in took], [c for _, c in took]
        wall, cpu = statistics.median(walls), statistics.median(cpus)
        print(
            f"{label:<44}{wall:>9.3f}{p90(walls):>8.3f}{cpu:>9.3f}{p90(cpus):>8.3f}"
            f"{wall - floor:>+11.3f}{cpu - floor_cpu:>+10.3f}"
        )


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text(encoding="utf-8").split()[:3])
    except OSError:
        return "unknown"


def sample(rounds: int, against: Path | None) -> None:
    tolok = tolok_command()
    ways: list[tuple[Way, Callable[[int], list[Step]]]] = []
    for tree in [None, against] if against is not None else [None]:
        folder, days = sample_project(rounds + HELD_BACK_EXTRA)
        env = None if tree is None else {**os.environ, "PYTHONPATH": str(tree)}
        subprocess.run([*tolok, "refresh"], cwd=folder, check=True, capture_output=True, env=env)
        kpi = _first_kpi(folder)
        suffix = "" if tree is None else f" [{tree.name}]"

        def make(number: int, kpi: str = kpi, days: list[Any] = days, suffix: str = suffix
                 ) -> list[Step]:  # fmt: skip
            return steps(kpi, days[number], suffix)

        ways.append(((folder, env, suffix), make))
        print(f"sample project{suffix}: {folder} (tolok init, ecommerce); one new day a round")
    report(measure(ways, rounds))


def big(data: Path, rounds: int) -> None:
    """`tolok refresh --full` and a refresh with nothing to do, on bench/run.py's project
    over the 10 M rows, from Parquet files and from native DuckDB tables."""
    sys.path.insert(0, str(Path(__file__).parent))
    import run  # bench/run.py

    tolok = tolok_command()
    for source in run.SOURCES:
        folder = run.project(data.resolve(), source)
        subprocess.run([*tolok, "refresh", "--full"], cwd=folder, check=True, capture_output=True)

        def make(number: int) -> list[Step]:
            return [
                ("tolok refresh (nothing new)", [*tolok, "refresh"], None),
                ("tolok refresh --full", [*tolok, "refresh", "--full"], None),
            ]

        print(f"10 M orders, {source}: {folder}")
        report(measure([((folder, None, ""), make)], rounds))
        shutil.rmtree(folder, ignore_errors=True)


def _first_kpi(folder: Path) -> str:
    from tolok.spec.loader import load_project

    project = load_project(folder).project
    assert project is not None
    return next(iter(project.kpis))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument(
        "--data", type=Path, help="bench/generate.py's files: also run on the 10 M rows"
    )
    parser.add_argument("--against", type=Path, help="another tolok tree, in the same rounds")
    args = parser.parse_args()
    print(f"load average before: {load_average()}")
    done = subprocess.run(
        [sys.executable, "-c", "import tolok; print(tolok.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    print(f"tolok from {done.stdout.strip()}")
    sample(args.rounds, args.against)
    if args.data is not None:
        big(args.data, args.rounds)
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()

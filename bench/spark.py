"""Benchmark: where Spark pays off. bench/run.py's seven KPIs (by month, month x region and
quarter: 21 results) over the same Parquet files on DuckDB, Spark on one machine, a
standalone Spark cluster and Spark Connect, at several sizes, results checked each time.

    python bench/generate.py --rows 1000000 --out /tmp/bench-1m     # and 10 M, 30 M
    python bench/spark.py --data /tmp/bench-1m --data /tmp/bench-10m --rounds 3 2
    python bench/spark.py --data /tmp/bench-10m --engines duckdb local   # no cluster

Engines (one `tolok.yaml` each, its sources `file:` the same Parquet files, which Spark
reads itself when the warehouse is Spark):

- `duckdb`: `warehouse: duckdb://` (the embedded DuckDB reads the files);
- `local`: `pyspark://local[2]`, the driver (a JVM) started by tolok's process, two cores;
- `standalone`: `spark://…`, a standalone master; tolok's process runs the driver, the
  work runs in executors on the workers;
- `connect`: `sc://…`, Spark Connect; tolok is a client, the driver runs in the server.

The cluster is `scripts/spark-cluster up --ports auto --memory M` (a master, two workers of
two cores each, a Connect server holding one core of each worker), started by this script
in a temporary folder and stopped (`down --wipe`) at the end, unless `--master` and
`--connect` give one that runs already. On this machine the "cluster" shares its cores with
the driver: it measures what the cluster machinery costs, not what more machines bring.

Measured per size, engine and round, each in a process of its own:

- `refresh --full`: the command a user types, `tolok refresh --full` of the 21-KPI project
  (SQLite store), from start to exit: wall time, CPU time (user + system of the process and
  of every process it started, from `wait4`: the driver JVM of `local` and `standalone`
  included) and peak RSS (the largest single process of the command: the JVM's for Spark).
  For `standalone` and `connect` most of the work is done by the cluster's processes, not
  the command's: their CPU time over the command is shown as "cluster CPU" (read from
  /proc, the processes of the cluster's process groups, executors included), and the wall
  time is the figure to compare.
- in-process: a child that imports its libraries first, then times (1) `session`: the
  project loaded and the warehouse connected (for Spark: the session started, the JVM and,
  on the cluster, the executors granted), (2) `first`: bench/run.py's `run_tolok` (what
  `tolok refresh` computes, without the store) in that process, the Spark session already
  up, and (3) `warm`: `run_tolok` again in the same process, as a server (`tolok serve`)
  that keeps its session computes a second time. Its results are checked against the
  strong DuckDB SQL of bench/run.py (`agree`: values within 1e-9, relative).
- time to first result (`first KPI`): the wall time of `tolok refresh` on a new project
  holding one KPI (revenue by month) over the same data, from the command's start to its
  exit, when the value is in the store and `tolok show` answers from it: what a user waits
  for after writing a first KPI (start-up, the session and one query).

Peak RSS is the largest of the command's processes as `wait4` reports it; on Linux a child's
starts at its parent's RSS, so this process stays small (the reference SQL runs in a child,
bench/run.py's `sql`) and its own is printed: a figure at that floor means "at most".

Rounds are interleaved: each round runs every engine once, in a rotated order. The 1-minute
load average is printed before and after each measurement and kept per engine (the medians
in the table). Printed per size: medians, ratios against DuckDB in the same rounds, and the
raw figures as JSON with `--json FILE` (appended, one line per size).
"""

from __future__ import annotations

import argparse
import ctypes
import importlib
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as duck  # bench/run.py: the project, the strong SQL, `agree`

ENGINES = ("duckdb", "local", "standalone", "connect")
ONE_KPI = "  revenue: {formula: 'revenue'}\n"
ROOT = Path(__file__).resolve().parent.parent
TOLOK = Path(sys.executable).with_name("tolok")


def spark_settings(engine: str, args: argparse.Namespace) -> dict[str, str]:
    """The `spark:` block of each engine's project: the same memory for the work (the
    local driver's = the two executors' of the cluster) and the same shuffle partitions."""
    shuffle = {"spark.sql.shuffle.partitions": str(args.shuffle_partitions)}
    if engine == "local":
        return {"spark.driver.memory": args.driver_memory, **shuffle}
    if engine == "standalone":
        return {"spark.executor.memory": args.cluster_memory, **shuffle}
    if engine == "connect":  # the server's memory is the server's: runtime settings only
        return shuffle
    return {}


def write_project(data: Path, engine: str, url: str, kpis: str, args: argparse.Namespace) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=f"tolok-spark-bench-{engine}-"))
    text = duck.PROJECT.format(
        warehouse=url,
        data=data.as_posix(),
        orders=f"file:{data.as_posix()}/orders.parquet",
        sessions=f"file:{data.as_posix()}/sessions.parquet",
        kpis=kpis,
    )
    settings = spark_settings(engine, args)
    if settings:
        text += "spark:\n" + "".join(f"  {k}: '{v}'\n" for k, v in settings.items())
    (folder / "tolok.yaml").write_text(text, encoding="utf-8")
    return folder


# --- the in-process child ---


def child(folder: Path) -> None:
    """In this process: the session, a first and a warm `run_tolok`; prints JSON."""
    for module in ("duckdb", "ibis", "ibis.backends.duckdb", "pandas", "pyarrow",
                   "tolok.engine.compute", "tolok.engine.refresh", "tolok.engine.warehouse",
                   "tolok.spec"):  # fmt: skip
        importlib.import_module(module)
    if "warehouse: duckdb" not in (folder / "tolok.yaml").read_text():
        for module in ("pyspark.sql", "ibis.backends.pyspark"):
            importlib.import_module(module)
    from tolok.engine.warehouse import Warehouse
    from tolok.spec import load_project

    began = time.perf_counter()
    loaded = load_project(folder)
    warehouse = Warehouse(loaded)
    warehouse.backend()  # a Spark session, kept: `run_tolok`'s own finds it (getOrCreate)
    session = time.perf_counter() - began
    began = time.perf_counter()
    results = duck.run_tolok(folder)
    first = time.perf_counter() - began
    began = time.perf_counter()
    again = duck.run_tolok(folder)
    warm = time.perf_counter() - began
    same = not duck.agree(results, again)
    print(json.dumps({"session": session, "first": first, "warm": warm, "same": same,
                      "results": results}))  # fmt: skip


# --- measuring a command and the processes it leaves ---


def become_subreaper() -> None:
    """Processes the measured commands start and leave behind (a driver JVM still exiting
    when Python has) become this process's children, so that their CPU time is counted."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def reap_orphans(seconds: float = 60.0) -> tuple[float, float]:
    """CPU time and largest peak RSS (MB) of the orphans of the last command, waited for."""
    cpu, rss = 0.0, 0.0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            pid, _, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.1)
            continue
        cpu += usage.ru_utime + usage.ru_stime
        rss = max(rss, usage.ru_maxrss / 1024)
    return cpu, rss


def cluster_cpu(groups: list[int]) -> float:
    """CPU seconds so far of the cluster's processes (the process groups of its master,
    workers and Connect server: executors included, those that ended in their worker's
    children's time)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) in groups:
            total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return total / tick


def load() -> float:
    return os.getloadavg()[0]


def measure(argv: list[str], cwd: Path, groups: list[int], label: str) -> dict[str, Any]:
    before, spent = load(), cluster_cpu(groups)
    try:
        wall, cpu, rss, text = duck.timed(argv, cwd)
    except SystemExit as exc:  # the command failed: recorded, the run goes on
        reap_orphans()
        message = str(exc).strip().splitlines()
        print(f"  {label}: FAILED: {message[-1] if message else exc}", flush=True)
        return {"error": "\n".join(message[-15:]), "load": [before, load()]}
    orphans_cpu, orphans_rss = reap_orphans()
    entry = {
        "wall": wall,
        "cpu": cpu + orphans_cpu,
        "rss": max(rss, orphans_rss),
        "cluster_cpu": cluster_cpu(groups) - spent if groups else None,
        "load": [before, load()],
        "text": text,
    }
    extra = f", cluster CPU {entry['cluster_cpu']:.1f} s" if groups else ""
    print(f"  {label}: wall {wall:.2f} s, CPU {entry['cpu']:.2f} s{extra}, peak RSS "
          f"{entry['rss']:.0f} MB; load {before:.2f} -> {entry['load'][1]:.2f}",
          flush=True)  # fmt: skip
    return entry


# --- the cluster ---


def cluster_up(args: argparse.Namespace) -> tuple[str, str, Path]:
    home = Path(tempfile.mkdtemp(prefix="sparkbench-cluster-"))
    command = [sys.executable, str(ROOT / "scripts" / "spark-cluster"), "up", "--ports",
               "auto", "--home", str(home), "--memory", args.cluster_memory]  # fmt: skip
    began = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        cluster_down(home)
        raise SystemExit(f"scripts/spark-cluster up failed:\n{out.stdout}\n{out.stderr}")
    connect = re.search(r"sc://\S+", out.stdout)
    master = re.search(r"spark://\S+", out.stdout)
    assert connect, out.stdout
    assert master, out.stdout
    print(f"cluster up in {time.perf_counter() - began:.1f} s ({home}): {master.group()}, "
          f"{connect.group()}; executors of {args.cluster_memory}", flush=True)  # fmt: skip
    return master.group(), connect.group(), home


def cluster_down(home: Path) -> None:
    subprocess.run([sys.executable, str(ROOT / "scripts" / "spark-cluster"), "down", "--wipe",
                    "--home", str(home)], check=False)  # fmt: skip


def cluster_groups(home: Path | None) -> list[int]:
    if home is None or not (home / "cluster.json").exists():
        return []
    return [int(p) for p in json.loads((home / "cluster.json").read_text())["pids"]]


# --- one size ---


def run_size(data: Path, rounds: int, urls: dict[str, str], groups: list[int],
             args: argparse.Namespace) -> dict[str, Any]:  # fmt: skip
    rows = duck._count_rows(data)
    print(f"\n== {data}: {rows['orders']:,} orders, {rows['sessions']:,} sessions; "
          f"{rounds} round(s); load {load():.2f}", flush=True)  # fmt: skip
    # The reference results, from bench/run.py's own child (in a process of its own: a
    # child's peak RSS starts at its parent's, so this one's is kept small).
    scratch = Path(tempfile.mkdtemp(prefix="tolok-spark-bench-sql-"))
    wall, _, _, text = duck.timed(duck.command("sql", data, "parquet", scratch), scratch)
    shutil.rmtree(scratch, ignore_errors=True)
    answer = json.loads(text)
    base, sql_seconds = answer["results"], answer["seconds"]
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"  strong DuckDB SQL (the reference results): {sql_seconds:.2f} s in-process, "
        f"{wall:.2f} s as a command; peak RSS of this process {floor:.0f} MB",
        flush=True,
    )
    engines = list(args.engines)
    folders = {e: write_project(data, e, urls[e], duck.kpi_lines(), args) for e in engines}
    report: dict[str, Any] = {
        "data": str(data), "orders": rows["orders"], "sessions": rows["sessions"],
        "sql_seconds": sql_seconds, "rounds": rounds,
        "engines": {e: {"command": [], "child": [], "first_kpi": []} for e in engines},
    }  # fmt: skip
    for round_ in range(rounds):
        order = engines[round_ % len(engines) :] + engines[: round_ % len(engines)]
        for engine in order:
            entry = report["engines"][engine]
            folder = folders[engine]
            tag = f"[{data.name} {engine} round {round_ + 1}]"
            groups_of = groups if engine in ("standalone", "connect") else []
            argv = [str(TOLOK), "refresh", "--full", str(folder)]
            entry["command"].append(measure(argv, folder, groups_of, f"{tag} refresh --full"))
            argv = [sys.executable, __file__, "--child", str(folder)]
            result = measure(argv, folder, groups_of, f"{tag} in-process")
            if "text" in result:
                answer = json.loads(result.pop("text"))
                bad = duck.agree(base, answer.pop("results"))
                result.update(answer, agrees=not bad, differences=bad[:3])
                print(
                    f"    session {answer['session']:.2f} s, first {answer['first']:.2f} s, "
                    f"warm {answer['warm']:.2f} s; agrees with the SQL: "
                    f"{'yes' if not bad else 'NO: ' + '; '.join(bad[:3])}",
                    flush=True,
                )
            entry["child"].append(result)
            one = write_project(data, engine, urls[engine], ONE_KPI, args)
            argv = [str(TOLOK), "refresh", str(one)]
            entry["first_kpi"].append(measure(argv, one, groups_of, f"{tag} first KPI"))
            shutil.rmtree(one, ignore_errors=True)
        for entry in report["engines"].values():
            for runs in entry.values():
                for run in runs:
                    run.pop("text", None)
    for folder in folders.values():
        shutil.rmtree(folder, ignore_errors=True)
    return report


def median_of(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None and "error" not in r]
    return statistics.median(values) if values else None


def print_report(report: dict[str, Any]) -> None:
    engines = report["engines"]
    duckdb = engines.get("duckdb")
    ref = {
        "wall": median_of(duckdb["command"], "wall") if duckdb else None,
        "warm": median_of(duckdb["child"], "warm") if duckdb else None,
        "first_kpi": median_of(duckdb["first_kpi"], "wall") if duckdb else None,
    }

    def cell(value: float | None, digits: int = 2) -> str:
        return "failed" if value is None else f"{value:.{digits}f}"

    def ratio(value: float | None, base: float | None) -> str:
        return "" if value is None or not base else f"{value / base:.1f}"

    print(f"\n### {report['orders']:,} orders, {report['sessions']:,} sessions "
          f"({report['rounds']} round(s); medians)\n")  # fmt: skip
    print("| engine | refresh --full s | x DuckDB | CPU s | cluster CPU s | peak RSS MB "
          "| session s | first s | warm s | warm x DuckDB | first KPI s | x DuckDB "
          "| results | load |")  # fmt: skip
    print("|---|" + "---:|" * 11 + "---|---|")
    for engine, entry in engines.items():
        command, inner, one = entry["command"], entry["child"], entry["first_kpi"]
        wall, warm, first_kpi = (median_of(command, "wall"), median_of(inner, "warm"),
                                 median_of(one, "wall"))  # fmt: skip
        loads = [x for run in command + inner + one for x in run["load"]]
        rss = [r["rss"] for r in command + inner + one if "rss" in r]
        agrees = [r.get("agrees") for r in inner if "error" not in r]
        verdict = "equal" if agrees and all(agrees) else ("DIFFER" if agrees else "-")
        errors = sum("error" in r for r in command + inner + one)
        if errors:
            verdict += f", {errors} failed"
        print(
            f"| {engine} | {cell(wall)} | {ratio(wall, ref['wall'])} "
            f"| {cell(median_of(command, 'cpu'), 1)} "
            f"| {cell(median_of(command, 'cluster_cpu'), 1) if engine in ('standalone', 'connect') else ''} "  # noqa: E501
            f"| {max(rss) if rss else 0:.0f} | {cell(median_of(inner, 'session'))} "
            f"| {cell(median_of(inner, 'first'))} | {cell(warm)} | {ratio(warm, ref['warm'])} "
            f"| {cell(first_kpi)} | {ratio(first_kpi, ref['first_kpi'])} | {verdict} "
            f"| {statistics.median(loads):.2f} ({min(loads):.2f}-{max(loads):.2f}) |"
        )
    for engine, entry in engines.items():
        for kind, runs in entry.items():
            for run in runs:
                if "error" in run:
                    print(f"\n{engine} {kind} failed:\n{run['error']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        action="append",
        help="a folder of bench/generate.py (repeat for several sizes)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        nargs="+",
        default=[2],
        help="rounds per --data, in their order (the last one for the rest)",
    )
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--master", help="spark://HOST:PORT of a cluster that runs already")
    parser.add_argument("--connect", help="sc://HOST:PORT of a Connect server that runs already")
    parser.add_argument(
        "--cluster-home", type=Path, help="that cluster's folder (for its CPU time: cluster.json)"
    )
    parser.add_argument(
        "--cluster-memory",
        default="3g",
        help="each executor's memory (spark-cluster --memory; standalone's)",
    )
    parser.add_argument("--driver-memory", default="6g", help="the local driver's memory")
    parser.add_argument("--shuffle-partitions", type=int, default=8)
    parser.add_argument("--json", type=Path, help="append each size's raw figures to FILE")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    if not args.data:
        parser.error("give at least one --data folder (bench/generate.py --out)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the cluster is stopped still
    urls = {"duckdb": "duckdb://", "local": "pyspark://local[2]"}
    home: Path | None = None
    started = False
    try:
        if {"standalone", "connect"} & set(args.engines):
            if args.master and args.connect:
                urls.update(standalone=args.master, connect=args.connect)
                home = args.cluster_home
            else:
                master, connect, home = cluster_up(args)
                started = True
                urls.update(standalone=master, connect=connect)
        groups = cluster_groups(home)
        become_subreaper()  # after the cluster's daemons have left for init
        print(f"settings: local driver {args.driver_memory}, executors "
              f"{args.cluster_memory}, {args.shuffle_partitions} shuffle partitions")  # fmt: skip
        for n, data in enumerate(args.data):
            rounds = args.rounds[min(n, len(args.rounds) - 1)]
            report = run_size(data.resolve(), rounds, urls, groups, args)
            print_report(report)
            if args.json:
                with args.json.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(report) + "\n")
    finally:
        if started and home is not None:
            cluster_down(home)


if __name__ == "__main__":
    main()

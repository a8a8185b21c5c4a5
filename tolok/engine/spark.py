"""Spark as a warehouse: one machine (`pyspark://local[*]`), a standalone cluster whose driver
runs in tolok (`spark://HOST:7077`) or a Spark Connect server (`sc://HOST:15002`, as Spark
3.4+ and Databricks are reached remotely).

A project passes Spark its settings in `tolok.yaml` (`spark: {spark.executor.memory: 4g}`)
and, for secrets, in environment variables `TOLOK_SPARK_<ANY NAME>` holding `key=value`
(`TOLOK_SPARK_S3_SECRET='spark.hadoop.fs.s3a.secret.key=…'`), which win over the file.

Where the driver runs in tolok (local and standalone), the managed tables live in a
warehouse folder that persists: `spark-warehouse` next to `tolok.yaml` unless
`spark.sql.warehouse.dir` says otherwise. Spark's own catalog there is in memory and
forgets the tables when the process ends, so each new session registers again the tables
it finds in that folder: a table `tolok ingest` wrote is found by the next `tolok refresh`.
A Spark Connect server keeps its own catalog (a Hive metastore, for one that restarts).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tolok.engine.errors import WarehouseError
from tolok.spec.problems import Location, say

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

ENVIRONMENT = "TOLOK_SPARK_"
WAIT = "TOLOK_SPARK_WAIT"
"""Seconds a standalone cluster has to give tolok an executor (120 by default)."""
WAREHOUSE_DIR = "spark.sql.warehouse.dir"
FIXED = {"spark.sql.session.timeZone": "UTC"}
"""Settings tolok's queries rely on: times are compared and bucketed in UTC, converted to a
dataset's zone by the query itself."""
CONNECT_MODE = (
    "SPARK_CONNECT_MODE_ENABLED",
    "SPARK_REMOTE",
    "SPARK_LOCAL_REMOTE",
    "SPARK_API_MODE",
)
"""What makes PySpark's builder make a Spark Connect client instead of a driver."""
QUIET = Path(__file__).with_name("spark-log4j2.properties")
DRIVER_LOG = "spark-driver.log"
"""Beside tolok.yaml: what the JVM of a driver tolok runs printed, each process anew."""
"""The driver's logging: errors only (no warnings, no progress bars in the terminal)."""
DRIVER_DEFAULTS = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    # A job's files are moved into the table when the job commits, not task by task: an
    # ingest that is killed leaves none of its rows (Hadoop's second algorithm leaves some).
    "spark.hadoop.mapreduce.fileoutputcommitter.algorithm.version": "1",
}
"""Settings of a driver tolok runs, unless the project sets them."""


def kind(url: str) -> str:
    """`connect` (Spark Connect), `master` (a standalone or other cluster manager, the
    driver in tolok) or `local`."""
    scheme = url.split("://", 1)[0].lower()
    if scheme == "sc":
        return "connect"
    if scheme == "spark":
        return "master"
    return "local"


def master(url: str) -> str:
    """The Spark master of a `pyspark://` or `spark://` URL: `local[2]`, `spark://h:7077`.

    >>> master("pyspark://local[2]"), master("spark://10.0.0.5:7077/"), master("pyspark://")
    ('local[2]', 'spark://10.0.0.5:7077', 'local[*]')
    """
    if kind(url) == "master":
        return url.rstrip("/")
    # urlsplit reads the brackets of local[2] as an IPv6 address: take the text as it is.
    return url.split("://", 1)[1].strip("/") or "local[*]"


def environment_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """Spark settings from `TOLOK_SPARK_*` variables, each `key=value`.

    >>> environment_settings({"TOLOK_SPARK_S3": "spark.hadoop.fs.s3a.secret.key=abc=",
    ...                       "HOME": "/root"})
    {'spark.hadoop.fs.s3a.secret.key': 'abc='}
    """
    found = {}
    for name, text in sorted(environ.items()):
        if not name.startswith(ENVIRONMENT) or name == WAIT:
            continue
        key, sep, value = text.partition("=")
        if not sep or not key.strip().startswith("spark."):
            raise WarehouseError(
                say("the environment variable {name} does not hold a Spark setting", name=name),
                None,
                say(
                    "write it as key=value: {example}",
                    example=f"{name}='spark.hadoop.fs.s3a.secret.key=…'",
                ),
            )
        found[key.strip()] = value
    return found


def settings_for(
    url: str, root: Path, project: Mapping[str, str], environ: Mapping[str, str]
) -> dict[str, str]:
    """Every setting the session gets: tolok's defaults for a driver it runs, the project's,
    the environment's, and the ones tolok's queries rely on."""
    settings: dict[str, str] = {}
    if kind(url) != "connect":
        settings.update(DRIVER_DEFAULTS)
        settings[WAREHOUSE_DIR] = str(root / "spark-warehouse")
        settings["spark.driver.extraJavaOptions"] = f"-Dlog4j2.configurationFile={QUIET}"
    settings.update({k: str(v) for k, v in project.items()})
    settings.update(environment_settings(environ))
    if kind(url) != "connect" and "://" not in settings[WAREHOUSE_DIR]:
        folder = Path(settings[WAREHOUSE_DIR])
        settings[WAREHOUSE_DIR] = str(folder if folder.is_absolute() else root / folder)
    settings.update(FIXED)
    return settings


def connect_spark(
    url: str,
    root: Path,
    project: Mapping[str, str],
    setting: Location | None = None,
    environ: Mapping[str, str] | None = None,
) -> BaseBackend:
    """An Ibis backend over a Spark session for `url`, with the project's settings."""
    import warnings

    import ibis
    from pyspark.sql import SparkSession

    # Ibis hands Spark Connect tables of typed-in values with an option only classic
    # sessions read: Spark says so on every one, to no one's use.
    warnings.filterwarnings("ignore", "'verifySchema' is ignored", UserWarning)
    way, environ = kind(url), os.environ if environ is None else environ
    settings = settings_for(url, root, project, environ)
    builder: Any = SparkSession.Builder()
    if way == "connect":
        builder = builder.remote(url)
    else:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        # The warehouse URL says where Spark is: a shell's SPARK_REMOTE (or a Spark Connect
        # session this process made before) does not turn a local driver into a client.
        for variable in CONNECT_MODE:
            os.environ.pop(variable, None)
        builder = builder.master(master(url)).appName("tolok")
    for key, value in settings.items():
        builder = builder.config(key, value)
    log = root / DRIVER_LOG
    try:
        if way != "connect":
            _start_driver(settings, master(url), log)
        session = builder.create() if way == "connect" else builder.getOrCreate()
        for key, value in FIXED.items():  # a session made before (in this process) too
            session.conf.set(key, value)
    except Exception as exc:
        raise WarehouseError(
            say(
                "cannot start a Spark session on {url}: {problem}",
                url=url,
                problem=reason(exc) + ("" if way == "connect" else _jvm_said(log)),
            ),
            setting,
            say(
                "check `warehouse:` and `spark:` in tolok.yaml, that the cluster is up "
                "(scripts/spark-cluster status) and that Java 17 or newer is installed"
            ),
        ) from exc
    if way == "master":
        _wait_for_executors(session, url, setting, _seconds(environ.get(WAIT, "120"), setting))
    if way != "connect":
        folder = session.conf.get(WAREHOUSE_DIR) or settings[WAREHOUSE_DIR]
        register_kept(session, Path(folder.removeprefix("file:")))
    return ibis.pyspark.connect(session)


def _start_driver(settings: Mapping[str, str], master_url: str, log: Path) -> None:
    """The driver's JVM, started as PySpark starts it, with what it prints to its console
    (the JVM's notice of incubator modules, Spark's word on its log level) written to `log`
    instead of tolok's terminal. Spark's errors reach tolok as exceptions all the same; a
    JVM that does not start leaves its reason in `log`, which tolok then quotes."""
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway

    if SparkContext._gateway is not None:  # a session of this process started it
        return
    conf = SparkConf(loadDefaults=False).setMaster(master_url).setAppName("tolok")
    conf.setAll(list(settings.items()))
    with log.open("wb") as output:
        streams = {"stdout": output, "stderr": output}
        gateway = launch_gateway(conf, popen_kwargs=streams)  # type: ignore[no-untyped-call]
    SparkContext._ensure_initialized(gateway=gateway)


def _jvm_said(log: Path) -> str:
    """Why the driver's JVM did not start (`Invalid maximum heap size: -Xmx12x`): the first
    line it printed that is not a notice, to follow PySpark's word that it exited. Nothing
    once the JVM runs: Spark's own error says more then."""
    from pyspark import SparkContext

    if SparkContext._gateway is not None:
        return ""
    try:
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines()]
    except OSError:
        return ""
    said = [line for line in lines if line and not line.startswith("WARNING")]
    return f" ({DRIVER_LOG}: {said[0][:300]})" if said else ""


def _seconds(text: str, setting: Location | None) -> float:
    """`TOLOK_SPARK_WAIT` as a number of seconds, or a clear error."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise WarehouseError(
            say("{name} is '{text}', not a number of seconds", name=WAIT, text=text),
            setting,
            say("e.g. {example}", example=f"{WAIT}=300"),
        )
    return seconds


def _wait_for_executors(session: Any, url: str, setting: Location | None, seconds: float) -> None:
    """A cluster that has no room for tolok's application (its cores or memory taken)
    leaves every query waiting, silently and for ever: after `seconds` without one
    executor, say so."""
    import time

    context = session.sparkContext._jsc.sc()  # the JVM's: Python's tracker lists no executors
    deadline = time.monotonic() + seconds
    while context.getExecutorMemoryStatus().size() < 2:  # the driver counts as one
        if time.monotonic() > deadline:
            session.stop()
            raise WarehouseError(
                say(
                    "the Spark cluster at {url} gave tolok no executor in {seconds} seconds",
                    url=url,
                    seconds=round(seconds),
                ),
                setting,
                say(
                    "the cluster may be busy or too small for what tolok asks: free cores, or "
                    "ask for less ({example}); {name} sets the wait",
                    example="`spark: {spark.executor.memory: 512m, spark.cores.max: 1}`",
                    name=WAIT,
                ),
            )
        time.sleep(0.2)


def register_kept(session: Any, folder: Path) -> list[str]:
    """The tables in a warehouse folder the session's catalog does not know (it forgot them
    with the process that wrote them), registered again: `<folder>/<table>` in the default
    database, `<folder>/<db>.db/<table>` in database `db`. Returns them as `db.table`."""
    if not folder.is_dir():
        return []
    found = []
    for place in sorted(folder.iterdir()):
        if place.name.endswith(".db") and place.is_dir():
            database = place.name[: -len(".db")]
            tables = [t for t in sorted(place.iterdir()) if _holds_table(t)]
            if tables:
                _create_database(session, database)
            found += [_register(session, database, t) for t in tables]
        elif _holds_table(place):
            found.append(_register(session, "default", place))
    return [name for name in found if name]


def clear_uncommitted(backend: Any, table: str, database: str | None) -> None:
    """Before a managed table is created: a folder at its place that holds no committed
    table is what a process killed while it wrote the table's first rows left (Spark's
    `_temporary` attempt): removed, as Spark would refuse the name (LOCATION_ALREADY_EXISTS)
    and no reader ever saw its rows. Only where this process's driver writes the warehouse
    (one machine, a standalone cluster on it): a Spark Connect server keeps its own."""
    import shutil

    session = backend._session
    if kind_of_session(session) == "connect":
        return
    root = str(session.conf.get(WAREHOUSE_DIR)).removeprefix("file:")
    if "://" in root:
        return
    place = Path(root) / (f"{database}.db" if database and database != "default" else "") / table
    if place.is_dir() and not _holds_table(place):
        shutil.rmtree(place)


def kind_of_session(session: Any) -> str:
    """`connect` for a Spark Connect client's session, else `driver`."""
    return "connect" if type(session).__module__.startswith("pyspark.sql.connect") else "driver"


def _holds_table(place: Path) -> bool:
    """A folder Spark wrote a Parquet table in: Parquet files, or a committed empty table."""
    if not place.is_dir() or place.name.startswith((".", "_")):
        return False
    return (place / "_SUCCESS").exists() or any(place.glob("*.parquet"))


def _register(session: Any, database: str, place: Path) -> str:
    name = f"{database}.{place.name}"
    if session.catalog.tableExists(_quoted(database, place.name)):
        return ""
    session.catalog.createTable(_quoted(database, place.name), path=str(place), source="parquet")
    return name


def _quoted(*parts: str) -> str:
    """A multi-part name as Spark parses one: each part between backticks (doubled inside).

    >>> _quoted("default", "my`table")
    '`default`.`my``table`'
    """
    return ".".join("`" + part.replace("`", "``") + "`" for part in parts)


def _create_database(session: Any, database: str) -> None:
    import sqlglot as sg
    import sqlglot.expressions as sge

    statement = sge.Create(
        this=sg.to_identifier(database, quoted=True), kind="DATABASE", exists=True
    ).sql("spark")
    session.sql(statement)


def reason(exc: BaseException) -> str:
    """What Spark said, on one line: a JVM error's own words (`java.net.ConnectException:
    Call From … to 127.0.0.1:9 failed…`), not py4j's `An error occurred while calling o42.csv`."""
    java = getattr(exc, "java_exception", None)
    text = (str(java.toString()) if java is not None else str(exc)).strip()
    return (text or type(exc).__name__).splitlines()[0][:300]


def read_files(backend: BaseBackend, paths: list[str], view: str | None) -> ir.Table:
    """Files of one kind read by Spark, where it runs (a cluster reads paths it can see:
    the same local paths on one machine, `s3a://…` or `hdfs://…` on many), as a view
    named `view`. CSV's column types are inferred (the declared ones are applied after);
    JSON is JSON lines. Spark reads no Excel workbook."""
    import ibis

    suffix = Path(paths[0]).suffix.lower()
    reader = backend._session.read
    if suffix in (".csv", ".tsv", ".txt"):
        # As CSV is written (RFC 4180): a quote inside a quoted field is doubled, and a
        # field may hold line breaks.
        frame = reader.csv(
            paths,
            header=True,
            inferSchema=True,
            sep="\t" if suffix == ".tsv" else ",",
            quote='"',
            escape='"',
            multiLine=True,
        )
    elif suffix == ".parquet":
        frame = reader.parquet(*paths)
    elif suffix in (".jsonl", ".ndjson", ".json"):
        frame = reader.json(paths)
    elif suffix in (".xlsx", ".xlsm"):
        raise WarehouseError(
            say("Spark does not read Excel workbooks ({file})", file=Path(paths[0]).name),
            None,
            say("save the sheet as CSV or Parquet, or use the DuckDB warehouse for it"),
        )
    else:
        raise WarehouseError(
            say("cannot read {file}: use CSV, Parquet or JSON lines", file=Path(paths[0]).name)
        )
    name = view or ibis.util.gen_name("tolok_files")
    frame.createOrReplaceTempView(name)
    table: ir.Table = backend.table(name)
    return table

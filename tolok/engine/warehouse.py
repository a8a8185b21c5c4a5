"""Where the data lives: the warehouse from `warehouse:` and the files datasets name.

Files (`file:` CSV, Parquet, Excel, JSON lines; globs) are read by an embedded DuckDB —
the warehouse itself when it is DuckDB. Table sources are read from the warehouse, and
so are queries (`source: {sql: …}`), as subqueries the measure queries build on.
Connections are opened on first use and fail within 10 seconds, naming the setting.

A process that lives on (`tolok serve`) keeps one warehouse from a refresh to the next
(`KeptWarehouse`): its connections, the views over dataset files (under the same names
each refresh) and the queries it compiled serve again, so a refresh after new rows pays
for reading them and little else.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import logging
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from tolok.compile.errors import CompileError
from tolok.engine.errors import WarehouseError
from tolok.engine.locks import connect_duckdb, open_duckdb
from tolok.spec.folders import (
    OUTSIDE_HINT_SAID,
    match_files,
    outside_message,
    remote,
    remote_refused,
)
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import ColumnType, Dataset
from tolok.spec.problems import Location, say

if TYPE_CHECKING:  # imported where used: a refresh with nothing to do needs none of them
    import duckdb
    import ibis.expr.schema as sch
    import ibis.expr.types as ir
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq
    from ibis.backends import BaseBackend

    from tolok.compile.dialect import Dialect
    from tolok.engine.distinct import DistinctValues
    from tolok.store.manual import StoredValue


CONNECT_TIMEOUT = 10
CASTS = {
    ColumnType.string: "string",
    ColumnType.integer: "int64",
    ColumnType.number: "float64",
    ColumnType.boolean: "boolean",
    ColumnType.date: "date",
    ColumnType.timestamp: "timestamp",
}


log = logging.getLogger("tolok.engine")

PREPARED_KEPT = 512
"""Compiled queries a warehouse keeps (the oldest go first)."""

ManualSource = Callable[[str], "list[StoredValue]"]
"""The values typed in for a manual dataset (read from the store)."""


@dataclass(frozen=True)
class Prepared:
    """A query compiled once: its SQL for the embedded DuckDB and its columns' types."""

    sql: str
    schema: sch.Schema


@dataclass
class Warehouse:
    loaded: LoadedProject
    manual: ManualSource | None = None
    _warehouse: BaseBackend | None = None
    _files: BaseBackend | None = None
    _tables: dict[tuple[str, tuple[Path, ...]], ir.Table] = field(default_factory=dict)
    _matched: dict[str, list[Path]] = field(default_factory=dict)
    last_days: dict[str, dict[Path, dt.date]] = field(default_factory=dict)
    """Per dataset, the last local day of its Parquet files' rows, as a watermark observed
    them in this refresh: `table(name, since)` leaves out files that end before `since`."""
    added: dict[str, tuple[Path, ...]] = field(default_factory=dict)
    """Per dataset whose only change since the last refresh is new files, those files (see
    `watermarks.Touch.added`): its sums and counts are brought up to date from them."""
    wait: float | None = None
    """How long to wait for a DuckDB file another program holds (None: `locks.lock_wait`)."""
    known_tables: dict[tuple[str | None, str], ir.Table] = field(default_factory=dict)
    """Warehouse tables ingestion has looked up, by (schema, name): see `ingest._keep`."""
    _views: dict[str, int] = field(default_factory=dict)
    """Per dataset, the views over its files made since the last `renew`: the n-th one is
    named `__tolok_<dataset>_<n>` each time, so queries compiled over it serve again."""
    _prepared: dict[Hashable, tuple[Prepared, ...]] = field(default_factory=dict)
    _registered: set[str] = field(default_factory=set)
    """In-memory tables (window spines, typed-in values) DuckDB was given since `renew`."""
    _shapes: dict[str, tuple[pq.ParquetSchema, ir.Table]] = field(default_factory=dict)
    """Per view over Parquet files: its first file's Parquet schema and its table."""
    distinct: DistinctValues | None = None
    """Distinct values kept from a refresh to the next, in a process that lives on (see
    `distinct`); None in one that ends."""
    _raw: duckdb.DuckDBPyConnection | None = None
    """The DuckDB driver's connection to a DuckDB warehouse, opened without Ibis for the
    watermarks' one query (`marks`); `backend()` hands it to Ibis when there is more."""

    @property
    def url(self) -> str:
        assert self.loaded.project is not None
        return self.loaded.project.warehouse

    def backend(self) -> BaseBackend:
        if self._warehouse is None:
            if self._raw is not None:
                import ibis

                self._warehouse = ibis.duckdb.from_connection(self._raw)
            else:
                assert self.loaded.project is not None
                self._warehouse = connect(
                    self.url,
                    self.loaded.root,
                    self._setting(),
                    self.wait,
                    self.loaded.project.spark_settings(),
                )
            _check_zones(self._warehouse, self._setting())
        return self._warehouse

    def marks(self, name: str) -> list[object]:
        """A table dataset's row count and its earliest and latest time, as text, from one
        query that converts nothing row by row: a table whose marks are as they were is
        taken as unchanged (see `watermarks`). On a DuckDB warehouse the query goes through
        the DuckDB driver, so a refresh with nothing to do never imports Ibis."""
        dataset = self._dataset(name)
        assert dataset.table is not None
        assert dataset.time is not None
        if self._is_duckdb():
            connection = self._duckdb()  # cannot open it: the refresh fails, as with Ibis
            try:
                return _duckdb_marks(connection, dataset.table, dataset.time)
            except Exception:  # Ibis' way says what is wrong (a table not found…)
                log.debug("marks of %s through DuckDB failed", name, exc_info=True)
        where = self.loaded.locate("datasets", name, "source")
        table = self._warehouse_table(name, dataset, where)
        column = table[dataset.time]
        found = table.aggregate(
            rows=table.count(),
            earliest=column.min().cast("string"),
            latest=column.max().cast("string"),
        ).execute()
        return [int(found["rows"][0]), *(_text(found[c][0]) for c in ("earliest", "latest"))]

    def _is_duckdb(self) -> bool:
        return "://" in self.url and self.url.split("://", 1)[0].lower() == "duckdb"

    def _duckdb(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection: Ibis' if it has one, else the driver's own."""
        if self._warehouse is not None:
            connection: duckdb.DuckDBPyConnection = self._warehouse.con
            return connection
        if self._raw is None:
            path = _duckdb_path(self.url, self.loaded.root)
            try:
                self._raw = open_duckdb(path, self.wait, self._setting())
            except WarehouseError:
                raise
            except Exception as exc:
                raise _unreachable(self.url, self._setting(), exc) from exc
        return self._raw

    def files(self) -> BaseBackend:
        """What reads files and typed-in values: the warehouse itself when it is DuckDB or
        Spark (a cluster reads the files where it runs), else the embedded DuckDB."""
        if self._files is None:
            warehouse = self.backend()
            if warehouse.name in ("duckdb", "pyspark"):
                self._files = warehouse
            else:
                import ibis

                self._files = ibis.duckdb.connect()
        return self._files

    def close(self) -> None:
        """Let go of the connections now (while one is open, a DuckDB file stays locked)."""
        backends = {id(b): b for b in (self._files, self._warehouse) if b is not None}
        raw, self._raw = self._raw, None
        if raw is not None and self._warehouse is None:  # not handed to Ibis
            with contextlib.suppress(Exception):
                raw.close()
        self._warehouse = self._files = None
        self._tables.clear()
        self.known_tables.clear()
        self._views.clear()
        self._prepared.clear()
        self._shapes.clear()
        for backend in backends.values():
            with contextlib.suppress(Exception):  # closing what is gone already
                backend.disconnect()

    def renew(self) -> None:
        """Ready for another refresh on the same connections: dataset files are matched
        again and their views made again (under the same names); compiled queries stay."""
        self._tables.clear()
        self._matched.clear()
        self._views.clear()
        self.last_days = {}
        self.added = {}
        if self._files is not None and self._files.name == "duckdb":
            for name in self._registered:  # a kept connection would hold them all day
                with contextlib.suppress(Exception):  # gone already
                    self._files.con.unregister(name)
        self._registered.clear()

    def reachable(self) -> bool:
        """A kept connection to a database server still answers (the server may have
        closed it: a restart, an idle timeout, a proxy). The embedded DuckDB always does."""
        backend = self._warehouse
        if backend is None or backend.name not in ("postgres", "mysql"):
            return True
        try:
            with backend.raw_sql("SELECT 1") as cursor:
                cursor.fetchall()
        except Exception:
            log.info("the kept warehouse connection was closed by the server: reconnecting")
            return False
        return True

    @property
    def holds_file(self) -> bool:
        """The warehouse is a DuckDB file, which one program at a time may open."""
        scheme = self.url.split("://", 1)[0].lower() if "://" in self.url else ""
        return scheme == "duckdb" and _duckdb_path(self.url, self.loaded.root) != ":memory:"

    def dialect(self, dataset: str) -> Dialect:
        from tolok.compile.dialect import dialect_for

        return dialect_for(self._backend_of(dataset).name)

    def table(
        self, name: str, since: dt.date | None = None, only: tuple[Path, ...] | None = None
    ) -> ir.Table:
        """The rows of a dataset, with declared column types applied.

        With `since`, rows from that local day on are all there; earlier ones may be
        missing (a query that keeps only those days need not open older files). With
        `only`, the rows of those of its files alone."""
        dataset = self._dataset(name)
        files = only if only else self._source_files(name, dataset, since)
        if (name, files) not in self._tables:
            table = typed(self.loaded, name, self._read(name, dataset, list(files)))
            self._tables[(name, files)] = table
        return self._tables[(name, files)]

    def execute(self, expr: ir.Table, dataset: str) -> pd.DataFrame:
        import ibis.expr.operations as ops

        backend = self._backend_of(dataset)
        if backend.name == "duckdb":
            self._registered.update(op.name for op in expr.op().find(ops.InMemoryTable))
        try:
            frame: pd.DataFrame = backend.execute(expr)
        except Exception as exc:
            raise self._failed(backend, dataset, exc) from exc
        return frame

    def _failed(self, backend: BaseBackend, dataset: str, exc: Exception) -> WarehouseError:
        return WarehouseError(
            say(
                "the query for dataset '{dataset}' failed on {engine}: {problem}",
                dataset=dataset,
                engine=backend.name,
                problem=_first_line(exc),
            ),
            self.loaded.locate("datasets", dataset),
        )

    def run(
        self,
        dataset: str,
        key: Hashable | None,
        build: Callable[[], list[ir.Table]],
        shape: Callable[[pa.Table], pd.DataFrame | None] | None = None,
    ) -> list[pd.DataFrame]:
        """The result of each query `build` makes. With a key, a query the embedded DuckDB
        reads is compiled once per warehouse and run from its SQL the next time: the key
        must name everything that shapes it, the tables it reads included. A single query
        run from its SQL is handed to `shape` as DuckDB returns it; where `shape` gives
        None, it comes back as Ibis would return it."""
        import ibis.expr.operations as ops

        backend = self._backend_of(dataset)
        if key is None or backend.name != "duckdb":
            return [self.execute(expr, dataset) for expr in build()]
        prepared = self._prepared.get(key)
        if prepared is None:
            exprs = build()
            if any(expr.op().find(ops.InMemoryTable) for expr in exprs):
                return [self.execute(expr, dataset) for expr in exprs]  # registered per run
            prepared = tuple(Prepared(str(backend.compile(e)), e.schema()) for e in exprs)
            self._remember(key, prepared)
        shaping = shape if len(prepared) == 1 else None
        return [self._run_prepared(backend, query, dataset, shaping) for query in prepared]

    def arrow(self, dataset: str, key: Hashable, build: Callable[[], ir.Table]) -> pa.Table:
        """The result of the query `build` makes, as the embedded DuckDB returns it (an
        Arrow table), compiled once per warehouse as `run` does. Datasets read from files
        only."""
        backend = self._backend_of(dataset)
        if backend.name != "duckdb":  # Spark reading files: through Ibis
            try:
                result: pa.Table = backend.to_pyarrow(build())
            except Exception as exc:
                raise self._failed(backend, dataset, exc) from exc
            return result
        prepared = self._prepared.get(key)
        if prepared is None:
            expr = build()
            prepared = (Prepared(str(backend.compile(expr)), expr.schema()),)
            self._remember(key, prepared)
        return self._arrow(backend, prepared[0], dataset)

    def _remember(self, key: Hashable, prepared: tuple[Prepared, ...]) -> None:
        if len(self._prepared) >= PREPARED_KEPT:
            del self._prepared[next(iter(self._prepared))]
        self._prepared[key] = prepared

    def _run_prepared(
        self,
        backend: BaseBackend,
        query: Prepared,
        dataset: str,
        shape: Callable[[pa.Table], pd.DataFrame | None] | None = None,
    ) -> pd.DataFrame:
        """As Ibis executes a query on DuckDB, from its SQL (or as `shape` makes it)."""
        import pandas as pd
        from ibis.backends.duckdb.converter import DuckDBPandasData

        table = self._arrow(backend, query, dataset)
        shaped = shape(table) if shape is not None else None
        if shaped is not None:
            return shaped
        if any(_as_objects(column) for column in table.columns):
            frame = pd.DataFrame(
                {
                    name: column.to_pylist() if _as_objects(column) else column.to_pandas()
                    for name, column in zip(table.column_names, table.columns, strict=True)
                }
            )
        else:  # the same, in one go
            frame = table.to_pandas()
        converted: pd.DataFrame = DuckDBPandasData.convert_table(frame, query.schema)
        return converted

    def _arrow(self, backend: BaseBackend, query: Prepared, dataset: str) -> pa.Table:
        try:
            table: pa.Table = backend.con.sql(query.sql).to_arrow_table()
        except Exception as exc:
            raise self._failed(backend, dataset, exc) from exc
        return table

    def same_place(self, one: str, other: str) -> bool:
        """Both datasets are read by the same engine, so a query can join them."""
        return self._backend_of(one) is self._backend_of(other)

    def backend_name(self, name: str) -> str:
        """The engine that reads a dataset: duckdb, postgres, mysql, pyspark…"""
        return str(self._backend_of(name).name)

    def manual_values(self, name: str) -> list[StoredValue]:
        return self.manual(name) if self.manual is not None else []

    def _backend_of(self, name: str) -> BaseBackend:
        """Files and typed-in values are read by the embedded DuckDB; tables where they are."""
        dataset = self._dataset(name)
        if dataset.file_pattern is not None or dataset.is_manual:
            return self.files()
        return self.backend()

    def _dataset(self, name: str) -> Dataset:
        assert self.loaded.project is not None
        return self.loaded.project.datasets[name]

    def _setting(self) -> Location | None:
        main = self.loaded.root / "tolok.yaml"
        source = self.loaded.files.get(main)
        if source is None or not hasattr(source.data, "lc") or "warehouse" not in source.data:
            return None
        line, col = source.data.lc.value("warehouse")
        return Location(main, line + 1, col + 1)

    def files_from(self, name: str, since: dt.date | None) -> tuple[Path, ...]:
        """The files `table(name, since)` reads (none for a table)."""
        return self._source_files(name, self._dataset(name), since)

    def _source_files(self, name: str, dataset: Dataset, since: dt.date | None) -> tuple[Path, ...]:
        """The files a dataset reads (none for a table), without those known to hold only
        rows from before `since`. One file always stays, so the table keeps its columns."""
        if dataset.file_pattern is None:
            return ()
        if name not in self._matched:  # once per warehouse, as the tables are kept
            self._matched[name] = self._allowed_files(name, dataset.file_pattern)
        files = self._matched[name]
        ends = self.last_days.get(name, {})
        if since is None or not ends:
            return tuple(files)
        recent = [f for f in files if f not in ends or ends[f] >= since]
        return tuple(recent or files[-1:])

    def _allowed_files(self, name: str, pattern: str) -> list[Path]:
        """The files of a `file:` source; one outside the project folder and `data_dirs` is
        refused here too, for a project that was never validated (see `spec.folders`)."""
        assert self.loaded.project is not None
        matched = match_files(self.loaded.root, pattern, self.loaded.project.data_dirs)
        if matched.refused:
            raise WarehouseError(
                say(
                    "dataset '{name}': {problem}",
                    name=name,
                    problem=outside_message(self.loaded.root, pattern, matched),
                ),
                self.loaded.locate("datasets", name, "source"),
                OUTSIDE_HINT_SAID,
            )
        return matched.files

    def _read(self, name: str, dataset: Dataset, files: list[Path]) -> ir.Table:
        pattern = dataset.file_pattern
        where = self.loaded.locate("datasets", name, "source")
        if pattern is None:
            return self._warehouse_table(name, dataset, where)
        if remote(pattern):
            return self._remote(name, pattern, where)
        if not files:
            raise WarehouseError(
                say("dataset '{name}': no file matches '{pattern}'", name=name, pattern=pattern),
                where,
                say("paths are relative to the project folder"),
            )
        try:
            return self._view(name, files)
        except WarehouseError as exc:  # said already (Spark reads no workbook…): placed here
            raise WarehouseError(
                exc.said or exc.message, exc.where or where, exc.hinted or exc.hint
            ) from exc
        except Exception as exc:
            raise WarehouseError(
                say(
                    "dataset '{name}': cannot read {file}: {problem}",
                    name=name,
                    file=files[0].name,
                    problem=_first_line(exc),
                ),
                where,
            ) from exc

    def _next_view(self, name: str) -> str:
        """The name of the next view of a dataset's files in this refresh."""
        slot = self._views.get(name, 0)
        self._views[name] = slot + 1
        return f"__tolok_{name}_{slot}"

    def _remote(self, name: str, pattern: str, where: Location | None) -> ir.Table:
        """Files on another file system (`s3a://…`, `hdfs://…`), the pattern passed to
        Spark as written: the cluster lists and reads them with its own access."""
        scheme = remote(pattern)
        backend = self.files()
        if backend.name != "pyspark":
            message, hint = remote_refused(pattern, scheme or "")
            raise WarehouseError(message, where, hint)
        from tolok.engine.spark import read_files as spark_reads
        from tolok.engine.spark import reason

        try:
            return spark_reads(backend, [pattern], self._next_view(name))
        except WarehouseError as exc:
            raise WarehouseError(exc.said or exc.message, where, exc.hinted or exc.hint) from exc
        except Exception as exc:
            raise WarehouseError(
                say(
                    "dataset '{name}': Spark cannot read '{pattern}': {problem}",
                    name=name,
                    pattern=pattern,
                    problem=reason(exc),
                ),
                where,
                say(
                    "check that the cluster reaches it and has the file system's connector "
                    "(s3a:// needs hadoop-aws: `spark.jars.packages` in `spark:`)"
                ),
            ) from exc

    def _view(self, name: str, files: list[Path]) -> ir.Table:
        """The dataset's files as the next view of this refresh. A view over Parquet files
        reads its file list from a variable of the same name: the next refresh sets the
        variable, and the view stands. DuckDB reads Parquet files with the columns of the
        first one: while that file has the same Parquet schema as before (names, physical
        and logical types, read from its footer), the view keeps its columns without
        DuckDB being asked again."""
        view = self._next_view(name)
        backend = self.files()
        if files[0].suffix.lower() != ".parquet" or backend.name != "duckdb":
            return read_files(backend, files, view)
        import pyarrow.parquet as pq

        shape = pq.read_metadata(files[0]).schema
        backend.con.execute(_set_files(view), [[str(f) for f in files]])
        held = self._shapes.get(view)
        if held is not None and held[0].equals(shape):
            return held[1]
        backend.con.execute(_files_view(view))
        table = backend.table(view)
        self._shapes[view] = (shape, table)
        return table

    def _warehouse_table(self, name: str, dataset: Dataset, where: Location) -> ir.Table:
        if dataset.sql is not None:
            return self._query(name, dataset.sql)
        source = dataset.table
        assert source is not None  # files and typed-in values are read elsewhere
        schema, _, table = source.rpartition(".")
        backend = self.backend()
        try:
            return backend.table(table, database=schema or None)
        except Exception as exc:
            raise WarehouseError(
                say(
                    "dataset '{name}': table '{table}' not found in the warehouse ({url}): "
                    "{problem}",
                    name=name,
                    table=source,
                    url=_redact(self.url),
                    problem=_first_line(exc),
                ),
                where,
                say("check the table name, or use file:PATH for a file"),
            ) from exc

    def _query(self, name: str, sql: str) -> ir.Table:
        """A `source: {sql: …}` dataset: the query as written, in the warehouse's own SQL
        (no `dialect=`: Ibis would translate it), as a subquery the measure queries build
        on. Its columns are asked for now, so a query naming an unknown table or column
        fails here, pointed at the query, with the warehouse's own words."""
        from tolok.spec.queries import statement

        backend = self.backend()
        try:
            query = statement(sql, backend.dialect)
            table: ir.Table = backend.sql(query, schema=_query_schema(backend, query))
        except Exception as exc:
            raise WarehouseError(
                say(
                    "dataset '{name}': the query failed on {engine}: {problem}",
                    name=name,
                    engine=backend.name,
                    problem=_first_line(exc),
                ),
                self.loaded.locate("datasets", name, "source", "sql"),
                say("run it in the warehouse to see the whole error, then fix the query"),
            ) from exc
        return table


def _query_schema(backend: BaseBackend, sql: str) -> sch.Schema | None:
    """The columns of a query, where tolok asks for them itself: Ibis 12 asks DuckDB 2
    through a cursor method it no longer has. `DESCRIBE <query>` is built from the parsed
    query, never pasted, so it runs nothing but the description. Elsewhere None: Ibis asks."""
    if backend.name != "duckdb":
        return None
    import ibis.expr.schema as sch
    import sqlglot as sg
    import sqlglot.expressions as sge

    query = sg.parse_one(sql, read=backend.dialect)
    rows = backend.con.sql(sge.Describe(this=query).sql(backend.dialect)).fetchall()
    mapper = backend.compiler.type_mapper
    return sch.Schema(
        {str(row[0]): mapper.from_string(str(row[1]), nullable=row[2] == "YES") for row in rows}
    )


def read_files(backend: BaseBackend, files: list[Path], view: str | None = None) -> ir.Table:
    """One table from files of one kind (a folder of monthly CSVs reads as one table), as
    a view named `view` (made again if it exists) or a new one."""
    suffix = files[0].suffix.lower()
    paths = [str(f) for f in files]
    if backend.name == "pyspark":
        from tolok.engine.spark import read_files as spark_reads

        return spark_reads(backend, paths, view)
    if suffix in (".csv", ".tsv", ".txt"):
        delimiter = "\t" if suffix == ".tsv" else ","
        table: ir.Table = backend.read_csv(paths, table_name=view, delim=delimiter)
        return table
    if suffix == ".parquet":
        parquet: ir.Table = backend.read_parquet(paths, table_name=view)
        return parquet
    if suffix in (".jsonl", ".ndjson", ".json"):
        lines: ir.Table = backend.read_json(paths, table_name=view)
        return lines
    if suffix in (".xlsx", ".xlsm"):
        import ibis
        import pandas as pd

        frame = pd.concat([pd.read_excel(f, engine="openpyxl") for f in files], ignore_index=True)
        return ibis.memtable(frame)
    raise WarehouseError(f"cannot read {files[0].name}: use CSV, Parquet, .xlsx or JSON lines")


@functools.cache
def _set_files(view: str) -> str:
    """SET VARIABLE view = ? (the list of files the view reads)."""
    import sqlglot as sg
    import sqlglot.expressions as sge

    target = sge.EQ(
        this=sge.column(sg.to_identifier(view, quoted=True)), expression=sge.Placeholder()
    )
    return sge.Set(expressions=[sge.SetItem(this=target, kind="VARIABLE")]).sql("duckdb")


@functools.cache
def _files_view(view: str) -> str:
    """CREATE OR REPLACE TEMP VIEW view AS SELECT * FROM read_parquet(getvariable('view'))."""
    import sqlglot as sg
    import sqlglot.expressions as sge

    files = sg.func("getvariable", sge.convert(view))
    return sge.Create(
        this=sg.to_identifier(view, quoted=True),
        kind="VIEW",
        replace=True,
        properties=sge.Properties(expressions=[sge.TemporaryProperty()]),
        expression=sg.select(sge.Star()).from_(sg.func("read_parquet", files)),
    ).sql("duckdb")


def typed(loaded: LoadedProject, name: str, table: ir.Table) -> ir.Table:
    """A dataset's rows with the types Ibis knows and the ones its YAML declares."""
    assert loaded.project is not None
    return _cast_declared(_known_types(table), loaded.project.datasets[name], loaded, name)


def _known_types(table: ir.Table) -> ir.Table:
    """Types newer than Ibis knows (DuckDB 2's nanosecond timestamps) as ones it does."""
    casts: dict[str, str] = {}
    for name, dtype in table.schema().items():
        if not dtype.is_unknown():
            continue
        text = str(dtype).upper()
        if "TIMESTAMPTZ" in text or "TIMESTAMP WITH TIME ZONE" in text:
            casts[name] = "timestamp('UTC')"
        elif "TIMESTAMP" in text:
            casts[name] = "timestamp"
    return table.cast(casts) if casts else table


def _cast_declared(table: ir.Table, dataset: Dataset, loaded: LoadedProject, name: str) -> ir.Table:
    casts = {c: CASTS[t] for c, t in dataset.columns.items() if c in table.columns}
    missing = [c for c in dataset.columns if c not in table.columns]
    if missing:
        raise WarehouseError(
            say(
                "dataset '{name}': column '{column}' is declared but not in the data "
                "(columns: {names})",
                name=name,
                column=missing[0],
                names=", ".join(table.columns),
            ),
            loaded.locate("datasets", name, "columns", missing[0], key=True),
        )
    mismatched = {c: t for c, t in casts.items() if str(table[c].type()).split("(")[0] != t}
    return table.cast(mismatched) if mismatched else table


def _as_objects(column: pa.ChunkedArray) -> bool:
    """Columns Ibis reads value by value: nested, dictionary-encoded or with nulls."""
    import pyarrow as pa

    kind = column.type
    return bool(pa.types.is_nested(kind) or pa.types.is_dictionary(kind) or column.null_count)


class KeptWarehouse:
    """One warehouse from a refresh to the next, in a process that lives on (`tolok
    serve`): while the project stays the same, its connections, views and compiled queries
    serve the next refresh. A DuckDB file is let go after each refresh as before (another
    program, `tolok refresh` or `tolok ingest`, may need it), and so is a warehouse whose
    refresh failed. One refresh at a time uses it: the caller holds a lock."""

    def __init__(self, manual: ManualSource | None = None) -> None:
        from tolok.engine.distinct import DistinctValues

        self.manual = manual
        self._kept: Warehouse | None = None
        self.distinct = DistinctValues()
        """Kept across warehouses: they hold the values of files, not connections."""
        self._closed = False

    @contextlib.contextmanager
    def use(self, loaded: LoadedProject) -> Iterator[Warehouse]:
        warehouse, self._kept = self._kept, None
        self.distinct.begin()
        if warehouse is not None and warehouse.loaded is loaded and warehouse.reachable():
            warehouse.renew()
        else:
            if warehouse is not None:
                warehouse.close()
            warehouse = Warehouse(loaded, manual=self.manual, distinct=self.distinct)
        try:
            yield warehouse
        except BaseException:
            warehouse.close()  # a connection that failed is not trusted again
            raise
        if warehouse.holds_file or self._closed:
            warehouse.close()
        else:
            self._kept = warehouse

    def close(self) -> None:
        """Let go of the warehouse; a refresh after this (one that was on its way at
        shutdown) connects for itself and keeps nothing."""
        from tolok.engine.distinct import DistinctValues

        self._closed = True
        self.distinct = DistinctValues()
        warehouse, self._kept = self._kept, None
        if warehouse is not None:
            warehouse.close()


def connect(
    url: str,
    root: Path,
    setting: Location | None = None,
    wait: float | None = None,
    spark: Mapping[str, str] | None = None,
) -> BaseBackend:
    """An Ibis backend for a warehouse URL; DuckDB paths are relative to the project, a
    DuckDB file another program holds is waited for up to `wait` seconds, and a Spark
    session gets the project's `spark` settings (see `tolok.engine.spark`)."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    try:
        if scheme == "duckdb":
            return connect_duckdb(_duckdb_path(url, root), wait, setting)
        if scheme in ("pyspark", "spark", "sc"):
            from tolok.engine.spark import connect_spark

            return connect_spark(url, root, spark or {}, setting)
        import ibis

        if scheme in ("postgres", "postgresql"):
            return ibis.connect("postgres" + url[len(scheme) :], connect_timeout=CONNECT_TIMEOUT)
        if scheme in ("mysql", "mariadb"):
            return ibis.connect("mysql" + url[len(scheme) :], connect_timeout=CONNECT_TIMEOUT)
        return ibis.connect(url)
    except WarehouseError:
        raise
    except Exception as exc:
        raise _unreachable(url, setting, exc) from exc


def _unreachable(url: str, setting: Location | None, exc: Exception) -> WarehouseError:
    return WarehouseError(
        say(
            "cannot connect to the warehouse {url}: {problem}",
            url=_redact(url),
            problem=_first_line(exc),
        ),
        setting,
        say(
            "check `warehouse:` in tolok.yaml: host, port, user, database, and that the "
            "server is running"
        ),
    )


def _check_zones(backend: BaseBackend, setting: Location | None) -> None:
    """MySQL and MariaDB convert time zones only once their zone tables are loaded; without
    them CONVERT_TZ gives NULL and every timestamp would silently drop out."""
    if backend.name != "mysql":
        return
    probe = "SELECT CONVERT_TZ('2000-01-01 00:00:00', 'UTC', 'Asia/Jakarta')"
    with backend.raw_sql(probe) as cursor:
        row = cursor.fetchone()
    if row is None or row[0] is None:
        raise WarehouseError(
            say("the MySQL/MariaDB server has no time zone tables, so it cannot convert times"),
            setting,
            say(
                "load them once: {command}",
                command="mariadb-tzinfo-to-sql /usr/share/zoneinfo | mariadb -u root mysql",
            ),
        )


def _duckdb_path(url: str, root: Path) -> str:
    path = url[len("duckdb://") :]
    if path in ("", "/", "/:memory:", ":memory:"):
        return ":memory:"
    target = Path(path[1:])  # duckdb:///relative.duckdb, duckdb:////absolute.duckdb
    return str(target if target.is_absolute() else root / target)


def _redact(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def _duckdb_marks(connection: duckdb.DuckDBPyConnection, source: str, time: str) -> list[object]:
    """COUNT(*), MIN(time) and MAX(time) as text, of a DuckDB table: built with the
    driver's expressions, never from pasted text."""
    import duckdb

    column = duckdb.ColumnExpression(time)
    text = duckdb.sqltype("VARCHAR")
    (row,) = (
        connection.table(source)
        .aggregate(
            [
                duckdb.FunctionExpression("count_star"),
                duckdb.FunctionExpression("min", column).cast(text),
                duckdb.FunctionExpression("max", column).cast(text),
            ]
        )
        .fetchall()
    )
    return [int(row[0]), row[1], row[2]]


def _text(value: object) -> str | None:
    """A value read back from the warehouse, as text (None for a missing one)."""
    if value is None or value != value:  # None or NaN
        return None
    return str(value)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def file_digest(path: Path) -> str:
    """The SHA-256 of a file's content, read in blocks."""
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def local_day(warehouse: Warehouse, name: str, table: ir.Table) -> ir.Value:
    """A dataset's time column as the project's calendar day."""
    project = warehouse.loaded.project
    assert project is not None
    dataset = project.datasets[name]
    assert dataset.time is not None
    import ibis.expr.types as ir

    from tolok.compile.dialect import dialect_for

    dialect = dialect_for(warehouse.backend_name(name))
    column = table[dataset.time]
    try:
        value = dialect.local_time(column, dataset.timezone, project.timezone)
    except CompileError:
        from tolok.engine.time_values import time_type_message

        root = warehouse.loaded.root
        files = list(warehouse.files_from(name, None))
        message = time_type_message(name, dataset, str(column.type()), files, root)
        where = warehouse.loaded.locate("datasets", name, "time")
        raise WarehouseError(message, where) from None
    return value.date() if isinstance(value, ir.TimestampValue) else value

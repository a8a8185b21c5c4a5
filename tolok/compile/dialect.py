"""What differs between warehouses, said once: capabilities, not `if backend == ...`.

Ibis has no time-zone conversion, so each backend's own function is called through a
builtin UDF: DuckDB and PostgreSQL `timezone(zone, ts)`, MySQL/MariaDB `CONVERT_TZ`,
Spark `from_utc_timestamp` / `to_utc_timestamp`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from tolok.compile.errors import CompileError


def _builtin(
    function: Callable[..., None], args: tuple[dt.DataType, ...], returns: dt.DataType
) -> Callable[..., Any]:
    """The backend's own function of that name; Ibis only types and places the call."""
    udf: Callable[..., Any] = ibis.udf.scalar.builtin(
        function, name=function.__name__, signature=(args, returns)
    )
    return udf


def timezone(zone: Any, ts: Any) -> None: ...
def convert_tz(ts: Any, source: Any, target: Any) -> None: ...
def from_utc_timestamp(ts: Any, zone: Any) -> None: ...
def to_utc_timestamp(ts: Any, zone: Any) -> None: ...


_timezone = _builtin(timezone, (dt.string, dt.timestamp), dt.timestamp)
_convert_tz = _builtin(convert_tz, (dt.timestamp, dt.string, dt.string), dt.timestamp)
_from_utc = _builtin(from_utc_timestamp, (dt.timestamp, dt.string), dt.timestamp)
_to_utc = _builtin(to_utc_timestamp, (dt.timestamp, dt.string), dt.timestamp)


def _zone_sql(ts: ir.TimestampValue, aware: bool, source: str, target: str) -> ir.Value:
    """DuckDB and PostgreSQL: timezone(z, naive) is an instant; timezone(z, instant) is naive."""
    instant = ts if aware else _timezone(source, ts)
    result: ir.Value = _timezone(target, instant)
    return result


def _zone_mysql(ts: ir.TimestampValue, aware: bool, source: str, target: str) -> ir.Value:
    # MySQL has no time-zone-aware type; aware columns hold UTC (Ibis' session zone).
    result: ir.Value = _convert_tz(ts, "UTC" if aware else source, target)
    return result


def _zone_spark(ts: ir.TimestampValue, aware: bool, source: str, target: str) -> ir.Value:
    # Spark timestamps are instants shown in the session zone, which Ibis sets to UTC.
    utc = ts if aware else _to_utc(ts, source)
    result: ir.Value = _from_utc(utc, target)
    return result


ZoneConverter = Callable[[ir.TimestampValue, bool, str, str], ir.Value]


@dataclass(frozen=True)
class Dialect:
    name: str
    convert_zone: ZoneConverter
    quantiles: bool = True  # has an exact quantile aggregate (else computed with windows)
    native_truncate: bool = False  # date_trunc on month/quarter/year is cheaper than make_date

    def local_time(
        self, value: ir.Value, data_zone: str | None, project_zone: str
    ) -> ir.TimestampValue | ir.DateValue:
        """A time column as the project's wall-clock time (dates pass through).

        Time-zone-aware columns are converted from their instant; naive ones are taken to
        be in `data_zone` (the dataset's `timezone`, by default the project's).
        """
        if isinstance(value, ir.DateValue):
            return value
        if not isinstance(value, ir.TimestampValue):
            raise CompileError(
                f"the time column holds {value.type()}, not dates or timestamps: declare it, "
                "e.g. `columns: {created_at: timestamp}`, or fix the values that are not dates"
            )
        aware = value.type().timezone is not None
        source = data_zone or project_zone
        if not aware and source == project_zone:
            return value
        converted = self.convert_zone(value, aware, source, project_zone)
        assert isinstance(converted, ir.TimestampValue)
        return converted


DIALECTS = {
    "duckdb": Dialect("duckdb", _zone_sql, native_truncate=True),
    "postgres": Dialect("postgres", _zone_sql, native_truncate=True),
    "mysql": Dialect("mysql", _zone_mysql, quantiles=False),
    "pyspark": Dialect("pyspark", _zone_spark),
}


def dialect_for(backend_name: str) -> Dialect:
    """The capabilities of a backend; unknown Ibis backends get the SQL-standard defaults."""
    return DIALECTS.get(backend_name, Dialect(backend_name, _zone_sql))

"""Datasets read by a query (`source: {sql: "select …"}`), checked when a project is loaded.

The query is read with sqlglot in the dialect of the project's `warehouse:`, which is how
Ibis reads it when it runs it as a subquery, so what passes here is what runs there. It
must be one statement, and a query: a dataset reads rows, it never makes or changes them.
A query that reads files itself (`read_csv('data/x.csv')`) is refused: `file:` reads them
from the project folder, file by file, with incremental refresh.

Nothing here connects to the warehouse: an unknown table or column is the warehouse's to
report, at the query, when it first runs.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass

from sqlglot import expressions as exp
from sqlglot.dialects.dialect import Dialect, DialectType
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokenizer_core import Token, TokenType

from tolok.spec.loaded import LoadedProject
from tolok.spec.problems import Location, Text, say
from tolok.spec.source import locate_in_scalar

CODE = "TLK017"
EMPTY = say("the query is empty")
EMPTY_HINT = say("write one query, e.g. select … from …")
"""A dataset's query cannot be read, is not one query, or reads files."""

DIALECTS = {
    "duckdb": "duckdb",
    "postgres": "postgres",
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "pyspark": "spark",
    "spark": "spark",
    "sc": "spark",
    "mssql": "tsql",
}
"""Warehouse URL schemes whose SQL dialect sqlglot names otherwise; other schemes (trino,
bigquery, snowflake, clickhouse…) are their own dialect's name."""

_FILE_READERS = frozenset(
    {
        "read_csv",
        "read_csv_auto",
        "read_parquet",
        "parquet_scan",
        "read_json",
        "read_json_auto",
        "read_json_objects",
        "read_ndjson",
        "read_ndjson_auto",
        "read_text",
        "read_blob",
        "read_xlsx",
        "sniff_csv",
        "iceberg_scan",
        "delta_scan",
    }
)
_FILE_NAME = re.compile(r"\.(csv|tsv|txt|parquet|jsonl?|ndjson|xlsx)(\.gz|\.zst)?$|\*", re.I)
_SPARK_FORMATS = frozenset({"parquet", "csv", "json", "orc", "text", "avro", "delta"})
_WRITES = (exp.DML, exp.DDL, exp.Into)
_WRITE_TOKENS = frozenset(
    {
        TokenType.INSERT,
        TokenType.UPDATE,
        TokenType.DELETE,
        TokenType.MERGE,
        TokenType.INTO,
        TokenType.CREATE,
    }
)


@dataclass(frozen=True)
class QueryIssue:
    """What is wrong with a query, and where: a character offset into its text."""

    offset: int
    said: Text
    hinted: Text | None = None
    length: int = 1

    @property
    def message(self) -> str:
        return str(self.said)

    @property
    def hint(self) -> str | None:
        return None if self.hinted is None else str(self.hinted)


def warehouse_dialect(url: str) -> str | None:
    """The sqlglot dialect of a warehouse URL, or None when sqlglot knows none for it (the
    query is then left for the warehouse to judge).

    >>> warehouse_dialect("postgresql://me@db/shop"), warehouse_dialect("mariadb://db/x")
    ('postgres', 'mysql')
    """
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    name = DIALECTS.get(scheme, scheme)
    try:
        Dialect.get_or_raise(name)
    except ValueError:
        return None
    return name or None


def check_queries(loaded: LoadedProject) -> None:
    """Every `source: {sql: …}` dataset's query, read in the warehouse's dialect; each
    problem points at its place inside the YAML string."""
    project = loaded.project
    assert project is not None
    dialect = warehouse_dialect(project.warehouse)
    if dialect is None:
        return
    for name, dataset in project.datasets.items():
        if dataset.sql is None:
            continue
        issue = read_query(dataset.sql, dialect)
        if issue is not None:
            where = _locate(loaded, name, issue.offset)
            where = where.shifted(where.line, where.col, issue.length)
            loaded.problems.add(CODE, issue.said, where, issue.hinted)


def read_query(text: str, dialect: str) -> QueryIssue | None:
    """What keeps `text` from being a dataset's query in `dialect`, or None.

    >>> read_query("select 1 from t", "duckdb") is None
    True
    >>> read_query("drop table t", "duckdb").message
    'a dataset reads rows with one query: DROP is not allowed here'
    """
    reader = Dialect.get_or_raise(dialect)
    try:
        tokens = reader.tokenize(text)
    except TokenError as exc:
        return _unclosed(exc)
    starts = _statement_starts(tokens)
    if not starts:
        return QueryIssue(0, EMPTY, EMPTY_HINT)
    if len(starts) > 1:
        return QueryIssue(
            starts[1],
            say("a dataset reads one query; a second statement starts here"),
            say("remove everything after the first statement's semicolon"),
        )
    try:
        with _quiet_sqlglot():
            parsed = reader.parser().parse(tokens, text)
    except ParseError as exc:
        return _unreadable(exc, text, dialect)
    found = [s for s in parsed if s is not None and not isinstance(s, exp.Semicolon)]
    if not found:
        return QueryIssue(0, EMPTY, EMPTY_HINT)
    first = next(t for t in tokens if t.token_type is not TokenType.SEMICOLON)
    return _not_a_query(found[0], tokens, first) or _reads_files(found[0], tokens, first)


def statement(text: str, dialect: DialectType) -> str:
    """The query alone, without the semicolons (and comments) before and after it: Ibis
    wraps it in brackets as a subquery, where `select …; -- note` would not fit. Text that
    cannot be read is given back as it is, for the warehouse to say what is wrong.

    >>> statement("select 1 from t; -- all of them", "duckdb")
    'select 1 from t'
    """
    try:
        tokens = Dialect.get_or_raise(dialect).tokenize(text)
    except TokenError:
        return text
    inside = [t for t in tokens if t.token_type is not TokenType.SEMICOLON]
    return text[inside[0].start : inside[-1].end + 1] if inside else text


def _statement_starts(tokens: list[Token]) -> list[int]:
    """Where each statement begins: the first token after the start or a semicolon."""
    starts: list[int] = []
    fresh = True
    for token in tokens:
        if token.token_type is TokenType.SEMICOLON:
            fresh = True
        elif fresh:
            starts.append(token.start)
            fresh = False
    return starts


def _not_a_query(statement: exp.Expr, tokens: list[Token], first: Token) -> QueryIssue | None:
    """DDL, DML and commands make or change things; a dataset only reads."""
    hint = say(
        "write one SELECT (or WITH … SELECT); make tables and views in the warehouse itself, "
        "and name them in the query"
    )
    if not isinstance(statement, exp.Query):
        word = first.text.upper()
        message = say("a dataset reads rows with one query: {word} is not allowed here", word=word)
        return QueryIssue(first.start, message, hint, len(first.text))
    if next(statement.find_all(*_WRITES), None) is None:
        return None
    token = next((t for t in tokens if t.token_type in _WRITE_TOKENS), first)
    word = token.text.upper()
    message = say("a dataset's query only reads: {word} would write to the warehouse", word=word)
    return QueryIssue(token.start, message, hint, len(token.text))


def _reads_files(statement: exp.Expr, tokens: list[Token], first: Token) -> QueryIssue | None:
    """A query that reads files by path would read them from wherever tolok runs, whole on
    every refresh; `file:` reads them from the project folder, file by file."""
    for table in statement.find_all(exp.Table):
        found = _file_read(table, tokens, first)
        if found is not None:
            return QueryIssue(
                found,
                say("a dataset's query reads the warehouse's tables; this reads files"),
                say(
                    "read files with `source: file:PATH` (relative to the project folder, "
                    "refreshed file by file), and query tables only"
                ),
            )
    return None


def _file_read(table: exp.Table, tokens: list[Token], first: Token) -> int | None:
    """Where `table` names a file or a file-reading function, or None for a table."""
    this = table.this
    if isinstance(this, exp.Func):
        name = (this.name if isinstance(this, exp.Anonymous) else this.sql_name()).lower()
        if name in _FILE_READERS:
            return next((t.start for t in tokens if t.text.lower() == name), first.start)
        return None
    if not isinstance(this, exp.Identifier):
        return None
    start = this.meta.get("start")
    offset = start if isinstance(start, int) else first.start
    if this.quoted and _FILE_NAME.search(this.name):
        return offset
    if table.db.lower() in _SPARK_FORMATS and this.quoted:  # parquet.`/data/orders`
        return offset
    return None


def _unclosed(exc: TokenError) -> QueryIssue:
    """A quote or bracket left open: sqlglot says which and from where ("Missing ' from
    1:7", the offset last)."""
    found = re.match(r"Missing (\S+) from \d+:(\d+)", str(exc.__cause__ or ""))
    if found is None:
        return QueryIssue(0, say("the query cannot be read"), say("check its quotes and brackets"))
    mark = found.group(1)
    return QueryIssue(
        int(found.group(2)),
        say("the query cannot be read: {mark} opens here and is never closed", mark=mark),
        say("close it with {mark}, or double it inside text ('it''s')", mark=mark),
    )


def _unreadable(exc: ParseError, text: str, dialect: str) -> QueryIssue:
    """sqlglot's first error, at the token it stopped on, in words a person can act on."""
    if not exc.errors:
        return QueryIssue(
            0,
            say(
                "the query cannot be read as {dialect} SQL: {reason}",
                dialect=str(dialect),
                reason=str(exc),
            ),
        )
    error = exc.errors[0]
    highlight = str(error.get("highlight") or "")
    line, col = int(error.get("line") or 1), int(error.get("col") or 1)
    lines = text.split("\n")
    before = sum(len(part) + 1 for part in lines[: max(line - 1, 0)])
    offset = min(max(before + col - len(highlight), 0), len(text))
    description = str(error.get("description") or "")
    shown = highlight if highlight[:1] in ("'", '"', "`") else f"'{highlight}'"
    if description.startswith("Required keyword"):
        reason = f"something is missing near {shown}"
    elif description.startswith("Invalid expression / Unexpected token"):
        reason = f"unexpected {shown}"
    else:
        reason = f"{description[:1].lower()}{description[1:]} at {shown}"
    return QueryIssue(
        offset,
        say(
            "the query cannot be read as {dialect} SQL: {reason}",
            dialect=str(dialect),
            reason=reason,
        ),
        say(
            "the query runs in the warehouse as written: use its own SQL (`warehouse:` in "
            "tolok.yaml)"
        ),
        length=max(1, min(len(highlight), len(text) - offset)),
    )


@contextlib.contextmanager
def _quiet_sqlglot() -> Iterator[None]:
    """sqlglot logs a warning when it falls back to reading a statement as an opaque
    command; the problem it leads to says more."""
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _locate(loaded: LoadedProject, name: str, offset: int) -> Location:
    """Where character `offset` of a dataset's query was written in its YAML file."""
    start = loaded.locate("datasets", name, "source", "sql")
    raw = loaded.raw("datasets", name, "source", "sql")
    return locate_in_scalar(loaded.entries[("datasets", name)].file, start, raw, offset)

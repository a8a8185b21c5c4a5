"""A spreadsheet someone uploads (CSV or .xlsx), read into what the "Add data" form shows:
its rows with their line numbers, each column's detected type, and the bad rows, named by
line and column in the words of `tolok ingest`.

Values are judged as ingestion parses them (`tolok.engine.rows.check_rows`): a column called
a date here is one whose every value ingest reads as a date, so what the builder accepts,
`tolok ingest` and the file reader accept too. Exports in other habits are read as well: any
of the delimiters `,;\\t|`, UTF-8 with or without a byte order mark, else Windows-1252, else
Latin-1; dates written 31-08-2023 or 8/31/2023, numbers written 1.234,56 next to a `;`. Such
values are rewritten the one way the project's files are read (ISO dates, a decimal point):
`normalized` is the file as it is saved (UTF-8, commas).

What to make of the columns (time, dimensions, measures) is `upload_proposal`'s. Knows
nothing of HTTP, of the store or of people.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

from tolok.engine.rows import Raw, RowProblem, check_rows
from tolok.spec.problems import Text, say

MAX_COLUMNS = 500
SHEET_SUFFIXES = (".xlsx", ".xlsm")
TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
DELIMITERS = ",;\t|"
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
FITS = 0.95
"""A column is of a type when this share of its values is: the others are bad rows."""


class Kind(StrEnum):
    """A column's type as the form shows it."""

    date = "date"
    datetime = "datetime"
    integer = "integer"
    decimal = "decimal"
    boolean = "boolean"
    text = "text"
    id = "id"
    empty = "empty"


INGEST_TYPES = {
    Kind.date: "date",
    Kind.datetime: "timestamp",
    Kind.integer: "integer",
    Kind.decimal: "number",
    Kind.boolean: "boolean",
    Kind.text: "string",
    Kind.id: "string",
    Kind.empty: "string",
}
"""The type `tolok ingest` checks a column of each kind against."""


class UploadError(ValueError):
    """A file that cannot be read at all (not a spreadsheet, no header): nothing to show.
    `said` is the sentence, worded in the reader's language where shown."""

    def __init__(self, said: Text) -> None:
        super().__init__(str(said))
        self.said = said


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    distinct: int
    """Distinct values (non-empty) in the whole file."""
    empty: int
    numeric: bool = False
    """Integer or decimal: a measure may add it up."""


@dataclass(frozen=True)
class Upload:
    """A file read: its columns, every row (line number, values as saved) and the bad rows."""

    label: str
    columns: list[Column]
    rows: list[tuple[int, Raw]]
    problems: list[RowProblem] = field(default_factory=list)
    encoding: str = "utf-8"
    delimiter: str = ","
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def first(self, count: int = 20) -> list[tuple[int, list[str]]]:
        """The first rows as the form shows them: line number, text of each column."""
        names = [c.name for c in self.columns]
        return [(line, [_text(raw.get(n)) for n in names]) for line, raw in self.rows[:count]]

    def normalized(self) -> str:
        """The file as saved into the project: UTF-8, commas, a header line, ISO dates."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        names = [c.name for c in self.columns]
        writer.writerow(names)
        for _, raw in self.rows:
            writer.writerow([_text(raw.get(n)) for n in names])
        return out.getvalue()

    def checked(
        self, time: str | None, zone: ZoneInfo, kinds: dict[str, Kind] | None = None
    ) -> list[RowProblem]:
        """The bad rows once `time` is the time column (every row needs one) and the columns
        are of `kinds` (the detected ones otherwise), as ingest finds them."""
        chosen = {c.name: c.kind for c in self.columns} | (kinds or {})
        types = {name: INGEST_TYPES[kind] for name, kind in chosen.items()}
        if time is not None:
            types[time] = "date" if types.get(time) == "date" else "timestamp"
        required = [time] if time else []
        _, _, bad = check_rows(self.rows, required, types, True, zone)
        header = [p for p in self.problems if p.line == 1 and not p.column]
        return header + [problem for problem, _ in bad]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


# --- reading a file ------------------------------------------------------------------------


def read_upload(data: bytes, filename: str, zone: ZoneInfo, sheet: str | None = None) -> Upload:
    """A file's rows and columns, its types detected over every row; raises `UploadError`
    when it is not a CSV or .xlsx file or has no header."""
    suffix = Path(filename).suffix.lower()
    label = Path(filename).name
    if suffix in SHEET_SUFFIXES:
        header, rows, sheets, chosen = _sheet_rows(data, sheet)
        found = Upload(label, [], rows, sheet=chosen, sheets=sheets)
    elif suffix in TEXT_SUFFIXES or not suffix:
        text, encoding = decode(data)
        delimiter = sniff_delimiter(text)
        header, rows = _csv_rows(text, delimiter)
        found = Upload(label, [], rows, encoding=encoding, delimiter=delimiter)
    else:
        raise UploadError(
            say("cannot read {file}: send a CSV file or an Excel workbook (.xlsx)", file=label)
        )
    if not any(header):
        raise UploadError(say("{file} has no header line naming its columns", file=label))
    if len(header) > MAX_COLUMNS:
        raise UploadError(say("{file} has {n} columns; at most {most} are read", file=label,
                              n=len(header), most=MAX_COLUMNS))  # fmt: skip
    return _typed(found, header, zone)


def decode(data: bytes) -> tuple[str, str]:
    """The text of a file and the encoding it was read with (UTF-8 first)."""
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding.removesuffix("-sig")
        except UnicodeDecodeError:
            continue
    raise UploadError(say("the file is not text"))  # pragma: no cover - Latin-1 reads any byte


def sniff_delimiter(text: str) -> str:
    """The delimiter of a CSV text: the one of `,;\\t|` that splits the first lines into the
    same number of fields, most of them (commas when unsure)."""
    sample = "\n".join(text[:65536].splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = sample.split("\n", 1)[0]
        counts = {d: first.count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _csv_rows(text: str, delimiter: str) -> tuple[list[str], list[tuple[int, Raw]]]:
    """Rows numbered as ingest numbers a CSV's (the line a row ends on)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip() for h in next(reader, [])]
    rows: list[tuple[int, Raw]] = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        raw: Raw = dict(zip(header, values, strict=False))
        if len(values) > len(header):
            raw["__extra__"] = values[len(header) :]
        rows.append((reader.line_num, raw))
    return header, rows


def _sheet_rows(
    data: bytes, sheet: str | None
) -> tuple[list[str], list[tuple[int, Raw]], list[str], str]:
    """A workbook's sheet (the first, or `sheet`): rows numbered as the sheet numbers them."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # a zip that is not a workbook, a damaged file
        said = say("cannot read the workbook: {problem}", problem=str(exc).splitlines()[0])
        raise UploadError(said) from None
    try:
        names = [str(n) for n in book.sheetnames]
        chosen = sheet if sheet is not None and sheet in names else names[0]
        rows_of = book[chosen].iter_rows(values_only=True)
        header = [("" if h is None else str(h)).strip() for h in next(rows_of, ())]
        while header and not header[-1]:
            header.pop()
        rows: list[tuple[int, Raw]] = []
        for line, values in enumerate(rows_of, start=2):
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            raw: Raw = dict(zip(header, values, strict=False))
            extra = [v for v in values[len(header) :] if v is not None]
            if extra:
                raw["__extra__"] = extra
            rows.append((line, raw))
    finally:
        book.close()
    return header, rows, names, chosen


# --- types ---------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_OTHER_DATE = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{4})$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_DECIMAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_COMMA_DECIMAL = re.compile(r"^[+-]?\d{1,3}(\.\d{3})*(,\d+)?$|^[+-]?\d+(,\d+)?$")
_BOOLEAN = {"true", "false"}
"""Only these: a Yes/No column is read as text by the file reader, and shown as written."""
ID_WORDS = {"id", "no", "nr", "number", "num", "key", "uuid", "guid", "code", "zip", "postal"}


def _typed(found: Upload, header: list[str], zone: ZoneInfo) -> Upload:
    problems = _header_problems(header)
    names = [h for h in dict.fromkeys(header) if h]
    rows = [(line, {k: _blank(v) for k, v in raw.items() if k}) for line, raw in found.rows]
    columns = []
    for name in names:
        values = [raw.get(name) for _, raw in rows]
        kind, convert = _kind(name, values, found.delimiter)
        if convert is not None:
            for _, raw in rows:
                if raw.get(name) is not None:
                    raw[name] = convert(raw[name])
        present = [v for v in (raw.get(name) for _, raw in rows) if v is not None]
        distinct = len({_text(v) for v in present})
        numeric = kind in (Kind.integer, Kind.decimal)
        columns.append(Column(name, kind, distinct, len(rows) - len(present), numeric))
    upload = replace(found, columns=columns, rows=rows, problems=problems)
    return replace(upload, problems=upload.checked(None, zone))


def _header_problems(header: list[str]) -> list[RowProblem]:
    problems = []
    seen: set[str] = set()
    for position, name in enumerate(header, start=1):
        if not name:
            problems.append(RowProblem(1, None, f"column {position} has no name: name it"))
        elif name in seen:
            reason = f"the column name '{name}' appears twice: rename one of them"
            problems.append(RowProblem(1, None, reason))
        seen.add(name)
    return problems


def _blank(value: object) -> object:
    if isinstance(value, str):
        return value if value.strip() else None
    return value


Convert = Callable[[object], object]
Test = Callable[[str], bool]


def _kind(name: str, values: list[object], delimiter: str) -> tuple[Kind, Convert | None]:
    """A column's kind, and how its values are rewritten to be read as such (or None).

    A type every value fits wins (in the order of `_text_tests`); else one that nearly all
    fit (`FITS`), the others being bad rows — not for a column named as an identifier,
    which is text then (postal codes, product numbers)."""
    present = [v for v in values if v is not None]
    if not present:
        return Kind.empty, None
    if not all(isinstance(v, str) for v in present):
        return _cell_kind(name, present), _cells
    texts = [str(v).strip() for v in present]
    idish = _id_named(name)
    tests = _text_tests(texts, delimiter)
    fits = [(kind, convert, sum(1 for t in texts if test(t))) for kind, test, convert in tests]
    chosen = next(((k, c) for k, c, n in fits if n == len(texts)), None)
    if chosen is None and not idish:
        chosen = next(((k, c) for k, c, n in fits if n >= FITS * len(texts)), None)
    if chosen is not None and not (idish and chosen[0] in (Kind.integer, Kind.decimal)):
        return chosen
    if idish or looks_like_ids(texts):
        return Kind.id, _stripped
    return Kind.text, None


def _stripped(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _text_tests(texts: list[str], delimiter: str) -> list[tuple[Kind, Test, Convert]]:
    tests: list[tuple[Kind, Test, Convert]] = [
        (Kind.boolean, lambda t: t.lower() in _BOOLEAN, _stripped),
        (Kind.integer, lambda t: bool(_INTEGER.match(t)), _stripped),
        (Kind.decimal, lambda t: bool(_DECIMAL.match(t)), _stripped),
    ]
    if delimiter != "," and any("," in t for t in texts):
        tests.append((Kind.decimal, lambda t: bool(_COMMA_DECIMAL.match(t)), _comma_decimal))
    tests += [
        (Kind.date, lambda t: bool(_ISO_DATE.match(t)), _stripped),
        (Kind.datetime, lambda t: bool(_ISO_DATE.match(t) or _ISO_TIME.match(t)), _stripped),
    ]
    day_first = _day_first(texts)
    if day_first is not None:
        tests.append((Kind.date, lambda t: bool(_OTHER_DATE.match(t)), _dates(day_first)))
    return tests


def _day_first(texts: list[str]) -> bool | None:
    """Whether dates like 05/04/2026 put the day first: a first part over 12 says so, a
    second over 12 says not; unsure, a slash means the month first (American exports),
    a dash or dot the day. None when the values are not such dates."""
    parts = [m.groups() for t in texts if (m := _OTHER_DATE.match(t))]
    if not parts:
        return None
    if any(int(p[0]) > 12 for p in parts):
        return True
    if any(int(p[2]) > 12 for p in parts):
        return False
    return parts[0][1] != "/"


def _dates(day_first: bool) -> Convert:
    def convert(value: object) -> object:
        if not isinstance(value, str):
            return value
        found = _OTHER_DATE.match(value.strip())
        if found is None:
            return value.strip()
        one, _, two, year = found.groups()
        day, month = (one, two) if day_first else (two, one)
        return f"{year}-{int(month):02d}-{int(day):02d}"

    return convert


def _comma_decimal(value: object) -> object:
    if isinstance(value, str) and _COMMA_DECIMAL.match(value.strip()):
        return value.strip().replace(".", "").replace(",", ".")
    return value


def _cell_kind(name: str, cells: list[object]) -> Kind:
    """A workbook column's kind, from the types its cells hold."""
    kinds = {type(v) for v in cells}
    if kinds <= {bool}:
        return Kind.boolean
    if kinds <= {int} or (kinds <= {int, float} and all(float(v).is_integer() for v in cells)):  # type: ignore[arg-type]
        return Kind.id if _id_named(name) else Kind.integer
    if kinds <= {int, float}:
        return Kind.decimal
    if kinds <= {dt.datetime, dt.date}:
        moments = [v for v in cells if isinstance(v, dt.datetime)]
        return Kind.date if all(m.time() == dt.time() for m in moments) else Kind.datetime
    texts = [_text(v).strip() for v in cells]
    return Kind.id if _id_named(name) or looks_like_ids(texts) else Kind.text


def _cells(value: object) -> object:
    """A workbook cell as the saved CSV holds it: whole numbers without `.0`, dates ISO."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date()
    if isinstance(value, dt.time):
        return value.isoformat()
    return value


def words(name: str) -> list[str]:
    """A column name's words, lower case: "Order ID" → [order, id], "customerID" →
    [customer, id], "MonthlyCharges" → [monthly, charges]."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def _id_named(name: str) -> bool:
    return bool(set(words(name)) & ID_WORDS)


_ID_VALUE = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9]+([-_./][A-Za-z0-9]+)+$")


def looks_like_ids(texts: list[str]) -> bool:
    """Codes such as CA-2013-152156 or FUR-BO-10001798: letters and digits joined by dashes,
    many different ones."""
    return len(set(texts)) > len(texts) / 10 and all(_ID_VALUE.match(t) for t in texts)


def read_path(path: Path, zone: ZoneInfo, sheet: str | None = None) -> Upload:
    """`read_upload` of a file on disk."""
    return read_upload(path.read_bytes(), path.name, zone, sheet)

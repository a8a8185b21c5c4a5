"""A KPI's series as a file people open elsewhere: CSV, or an Excel workbook with a chart.
The same rows for `tolok show --format csv`, the API and the KPI page's downloads.

Every CSV or Excel file tolok writes for people (these, and `tolok report --format xlsx`)
writes its cells here, through `csv_text` and `put`/`put_row`: text comes from people who may
not be the ones opening the file (a dimension value any `ingest:` token can send, a KPI's
title), and a spreadsheet must never run it as a formula. Numbers stay numbers."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from tolok.answers.views import SeriesView, change_of
from tolok.display import round_money
from tolok.spec.models import Unit

Cell = str | float | int | None

# What a spreadsheet reads as the start of a formula (OWASP, "CSV injection"), with the
# full-width forms some locales' Excel treats the same way.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Control characters an .xlsx cannot hold (openpyxl refuses them); shown as U+FFFD instead.
_NOT_IN_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# What an Excel sheet's name cannot hold, and its length.
_NOT_IN_SHEET_TITLE = re.compile(r"[\\*?:/\[\]\x00-\x1f]")
SHEET_TITLE_LENGTH = 31


def csv_cell(value: Cell) -> str | float | int:
    r"""A cell for a CSV file: text a spreadsheet would run as a formula gets a leading `'`
    (so `=HYPERLINK(...)` is written `'=HYPERLINK(...)`); numbers, negative ones too, stay
    numbers; None is empty. A carriage return inside text is written as a line feed: the
    csv module quotes a field holding a line feed, not one holding a lone carriage return,
    which readers (Python's csv among them) take for the end of a row: `a\r=1+1` would start
    a row with a formula.

    >>> [csv_cell(v) for v in ["=1+1", "-2+3", "Bali", -2.5, None, "a\r=1+1"]]
    ["'=1+1", "'-2+3", 'Bali', -2.5, '', 'a\n=1+1']
    """
    if not isinstance(value, str):
        return "" if value is None else value
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    return "'" + text if value.startswith(FORMULA_STARTS) else text


def csv_text(rows: Iterable[Sequence[Cell]]) -> str:
    """Rows (the header first) as CSV text, each cell through `csv_cell`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    return buffer.getvalue()


def put(sheet: Any, row: int, column: int, value: Cell, shape: str | None = None) -> None:
    """Write one cell of an openpyxl sheet: text always as a string cell, never a formula
    or an error (openpyxl makes text starting with `=` a formula, `#N/A` an error), marked
    quote-prefixed when it looks like a formula so that editing it in Excel keeps it text;
    numbers as numbers, in the number format `shape` when given (see `number_format`)."""
    cell = sheet.cell(row, column)
    if not isinstance(value, str):
        cell.value = value
        if shape is not None:
            cell.number_format = shape
        return
    cell.value = _NOT_IN_XLSX.sub("\ufffd", value)
    cell.data_type = "s"
    if value.startswith(FORMULA_STARTS):
        cell.quotePrefix = True


def put_row(
    sheet: Any, row: int, values: Sequence[Cell], shapes: Sequence[str | None] = ()
) -> None:
    """Row `row` of a sheet from its first column, each cell through `put` (with the number
    format of `shapes` in the same place, when there is one)."""
    for column, value in enumerate(values, start=1):
        shape = shapes[column - 1] if column <= len(shapes) else None
        put(sheet, row, column, value, shape)


def number_format(unit: Unit, currency: str, locale: str) -> str:
    """The Excel number format of a KPI's values: money with its currency's symbol and minor
    unit, a percentage as a percentage, counts whole. The spreadsheet shows the separators
    of its reader's settings.

    >>> number_format(Unit.currency, "IDR", "id"), number_format(Unit.currency, "USD", "en")
    ('"Rp" #,##0', '"$"#,##0.00')
    >>> number_format(Unit.percent, "IDR", "id"), number_format(Unit.count, "IDR", "id")
    ('0.0%', '#,##0')
    """
    from babel.numbers import get_currency_precision, get_currency_symbol

    if unit is Unit.percent:
        return "0.0%"
    if unit is Unit.count:
        return "#,##0"
    if unit is not Unit.currency:
        return "#,##0.00"
    symbol = get_currency_symbol(currency, locale).replace('"', "")
    space = " " if locale == "id" or symbol[-1:].isalpha() else ""  # as `display._money`
    places = get_currency_precision(currency)
    return f'"{symbol}"{space}#,##0' + ("." + "0" * places if places else "")


def sheet_title(text: str, fallback: str) -> str:
    """A name Excel takes for a sheet: no `\\ * ? : / [ ]`, no quote at either end, at most
    31 characters; `fallback` when nothing is left.

    >>> sheet_title("Revenue / order [IDR]", "revenue")
    'Revenue - order -IDR-'
    """
    title = _NOT_IN_SHEET_TITLE.sub("-", text)[:SHEET_TITLE_LENGTH].strip().strip("'").strip()
    return title or fallback[:SHEET_TITLE_LENGTH]


def series_rows(view: SeriesView) -> tuple[list[str], list[list[Cell]]]:
    """The header and one row per point: period, start, slice, value, then the comparison
    and the target when there are any, and each point's verdict (`tolok.answers.verdicts`): status,
    state (closed, open, not_final, partial) and anomaly score. Money is rounded to
    its currency's minor unit (cents, whole rupiah)."""
    result = view.result
    money = _money_of(view)
    header = ["period", "start", *result.by, "value"]
    if result.compare:
        header += ["compare", "change"]
    targeted = any(v.target is not None for v in view.verdicts)
    if targeted:
        header += ["target"]
    header += ["status", "state", "anomaly_score"]
    rows: list[list[Cell]] = []
    for p, verdict in zip(result.points, view.verdicts, strict=True):
        row: list[Cell] = [p.label, p.period.isoformat(), *[_cell(v) for _, v in p.slice]]
        row.append(money(p.value))
        if result.compare:
            row += [money(p.compare), change_of(p, verdict)]
        if targeted:
            row.append(money(verdict.target))
        row += [verdict.status.value if verdict.status else None, verdict.state.value]
        anomaly = verdict.anomaly
        row.append(None if anomaly is None else round(anomaly.score, 2))
        rows.append(row)
    return header, rows


def _money_of(view: SeriesView) -> Callable[[float | None], float | None]:
    """Rounds a value to the currency's minor unit for a money KPI; leaves others as they are."""
    if view.kpi.unit is not Unit.currency:
        return lambda value: value
    currency = view.project.currency
    return lambda value: round_money(value, currency)


def _cell(value: object) -> Cell:
    if value is None or isinstance(value, str | float | int):
        return value
    return str(value)


def as_csv(view: SeriesView) -> str:
    header, rows = series_rows(view)
    return csv_text([header, *rows])


def as_xlsx(view: SeriesView) -> bytes:
    """A workbook: the rows on one sheet, numbers as numbers, and a line chart of the values
    (and targets) when the series is not broken down."""
    from openpyxl import Workbook
    from openpyxl.chart import LineChart, Reference

    header, rows = series_rows(view)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = sheet_title(view.kpi.title or view.result.kpi, view.result.kpi)
    lines: list[Sequence[Cell]] = [header, *rows]
    for number, line in enumerate(lines, start=1):
        put_row(sheet, number, line)
    sheet.freeze_panes = "A2"
    sheet.column_dimensions["A"].width = 12
    sheet.column_dimensions["B"].width = 12
    if rows and not view.result.by:
        chart = LineChart()
        chart.title = view.kpi.title or view.result.kpi
        chart.height, chart.width = 8, 18
        value = header.index("value") + 1
        chart.add_data(Reference(sheet, min_col=value, min_row=1, max_row=len(rows) + 1),
                       titles_from_data=True)  # fmt: skip
        if "target" in header:
            target = header.index("target") + 1
            chart.add_data(Reference(sheet, min_col=target, min_row=1, max_row=len(rows) + 1),
                           titles_from_data=True)  # fmt: skip
        chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=len(rows) + 1))
        sheet.add_chart(chart, f"{chr(ord('A') + len(header) + 1)}2")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()

"""A KPI's series as a file people open elsewhere: CSV, or an Excel workbook with a chart.
The same rows for `tolok show --format csv`, the API and the KPI page's downloads."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from tolok.display import round_money
from tolok.spec.models import Unit
from tolok.views import SeriesView, change_of

Cell = str | float | int | None


def series_rows(view: SeriesView) -> tuple[list[str], list[list[Cell]]]:
    """The header and one row per point: period, start, slice, value, then the comparison
    and the target when there are any, and each point's verdict (`tolok.verdicts`): status,
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
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return buffer.getvalue()


def as_xlsx(view: SeriesView) -> bytes:
    """A workbook: the rows on one sheet, numbers as numbers, and a line chart of the values
    (and targets) when the series is not broken down."""
    from openpyxl import Workbook
    from openpyxl.chart import LineChart, Reference

    header, rows = series_rows(view)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = view.kpi.title[:31] if view.kpi.title else view.result.kpi[:31]
    sheet.append(header)
    for row in rows:
        sheet.append(row)
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

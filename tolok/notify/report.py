"""A board or goal report for a period, to send or print: Markdown, self-contained HTML
(charts as inline SVG, no scripts), an Excel workbook with charts, or PDF (the HTML printed by
headless Chromium). Read from the store, in the project's language or the one asked."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tolok import clock
from tolok.spec.calendar import Calendar, PeriodError
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import Unit

if TYPE_CHECKING:
    from tolok.answers.verdicts import KpiState

SPARK = 12


class ReportError(ValueError):
    """A report that cannot be made as asked; the message says what to change."""


@dataclass(frozen=True)
class Line:
    name: str
    title: str
    period: str
    value: float | None
    value_text: str
    target: float | None
    target_text: str
    attainment_text: str
    status: str
    status_text: str
    change_text: str
    owner: str
    history: list[tuple[str, float | None]]  # (period, value), oldest first, up to SPARK
    unit: str = "number"
    attainment: float | None = None  # share of target reached
    change: float | None = None  # relative, or a difference of shares for a percentage


@dataclass(frozen=True)
class Report:
    project: str
    title: str
    lang: str
    made_at: str
    period_note: str
    lines: list[Line] = field(default_factory=list)
    words: dict[str, str] = field(default_factory=dict)
    currency: str = "USD"


def build(
    loaded: LoadedProject, goal: str | None, period: str | None, lang: str | None = None
) -> Report:
    """The report of every active KPI (or those of `goal` and its sub-goals) in `period` (a
    day or a period label; each KPI's last closed period when None)."""
    from tolok.answers.verdicts import kpi_states
    from tolok.i18n import Formats, gettext

    project = loaded.project
    assert project is not None
    lang = lang or project.locale.value
    _ = gettext(lang)
    fmt = Formats(lang, project.currency, Calendar.of(project))
    calendar = Calendar.of(project)
    today = clock.today(project)
    at = None
    if period is not None:
        try:
            at = calendar.parse(period)[1]
        except PeriodError as exc:
            raise ReportError(f"{exc}; write 2026-10, 2026-Q3, 2026 or 2026-10-15") from None
    names = _kpis_of(loaded, goal)
    states = kpi_states(loaded, today, at)
    if not any(s.points for s in states.values()):
        raise ReportError("no stored values yet: run `tolok refresh` first")
    lines = kpi_lines(loaded, names, states, lang)
    title = project.goals[goal].title if goal else project.name
    note = (
        _("Last closed period of each KPI") if at is None else _("Period: {period}", period=period)
    )
    return Report(
        project=project.name, title=title, lang=lang,
        made_at=fmt.moment(clock.now(project)),
        period_note=note, lines=lines, currency=project.currency,
        words={"kpi": _("KPI"), "period": _("Period"), "value": _("Value"),
               "target": _("Target"), "attainment": _("Attainment"), "status": _("Status"),
               "change": _("Change from the period before"), "owner": _("Owner"),
               "made": _("Made"), "report": _("Report"),
               "trend": _("Last {n} periods", n=SPARK)},
    )  # fmt: skip


def kpi_lines(
    loaded: LoadedProject, names: list[str], states: dict[str, KpiState], lang: str
) -> list[Line]:
    """Each of `names` that has a state (an active KPI) as a line in `lang`, in the order
    asked: the report and the digest show the same figures worded the same way."""
    from tolok.i18n import Formats, gettext, status_words

    project = loaded.project
    assert project is not None
    fmt = Formats(lang, project.currency, Calendar.of(project))
    words = status_words(gettext(lang))
    lines = []
    for name in names:
        state = states.get(name)
        if state is None:
            continue
        kpi = project.kpis[name]
        latest = state.latest
        before = [  # whole, final periods up to the one reported
            v for v in state.verdicts if v.judged and latest and v.period <= latest.period
        ]
        previous = before[-2].value if len(before) >= 2 else None
        value = latest.value if latest else None
        change_text, change = fmt.change(None), None
        if value is not None and previous is not None and kpi.unit is Unit.percent:
            decimals = fmt.value_decimals([value, previous], kpi.unit)
            change = value - previous
            change_text = fmt.points(change, decimals)  # a rate moves in points
        elif value is not None and previous:
            change = (value - previous) / abs(previous)
            change_text = fmt.change(change)
        lines.append(Line(
            name=name, title=kpi.title or name,
            period=fmt.period(latest.period, kpi.grain) if latest else "",
            value=value, value_text=fmt.value(value, kpi.unit),
            target=state.target, target_text=fmt.value(state.target, kpi.unit),
            attainment_text=fmt.share(state.attainment),
            status=state.standing.value, status_text=words[state.standing.value],
            change_text=change_text, owner=kpi.owner or "",
            history=[(fmt.period(p.period, kpi.grain), p.value) for p in before[-SPARK:]],
            unit=kpi.unit.value, attainment=state.attainment, change=change,
        ))  # fmt: skip
    return lines


def _kpis_of(loaded: LoadedProject, goal: str | None) -> list[str]:
    project = loaded.project
    assert project is not None
    if goal is None:
        return list(project.kpis)
    if goal not in project.goals:
        known = ", ".join(project.goals) or "none"
        raise ReportError(f"no goal named '{goal}' (goals: {known})")
    goals = {goal}
    grew = True
    while grew:  # the goal and every goal under it
        more = {n for n, g in project.goals.items() if g.parent in goals} - goals
        goals |= more
        grew = bool(more)
    return [n for n, k in project.kpis.items() if k.goal in goals]


def to_markdown(report: Report) -> str:
    """A table of the KPIs, each with a text sparkline of its last periods (as the terminal
    draws it: `▁▃▅█`), which reads in any Markdown viewer and in plain text."""
    from tolok.display import sparkline

    w = report.words
    head = [w["kpi"], w["period"], w["value"], w["target"], w["attainment"], w["status"],
            w["change"], w.get("trend", ""), w["owner"]]  # fmt: skip
    out = [f"# {report.title}", "", f"{report.period_note} · {w['made']} {report.made_at}", ""]
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for line in report.lines:
        spark = sparkline([value for _, value in line.history])
        cells = [line.title, line.period, line.value_text, line.target_text,
                 line.attainment_text, line.status_text, line.change_text,
                 f"`{spark}`" if spark.strip() else "", line.owner]  # fmt: skip
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(out) + "\n"


def to_html(report: Report) -> str:
    """One page, no scripts, no external files: what mail clients and printers take."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from tolok.notify.charts import line_svg

    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html"]),
    )
    return env.get_template("report.html").render(report=report, chart=line_svg)


def to_xlsx(report: Report) -> bytes:
    """A summary sheet and a sheet of each KPI's last periods with a line chart. Titles,
    owners and labels are written as text, never as formulas (`tolok.answers.export.put`); values
    as numbers in the KPI's format (money in its currency, percentages as such), with the
    attainment and the change from the period before."""
    from openpyxl import Workbook
    from openpyxl.chart import LineChart, Reference

    from tolok.answers.export import number_format, put, put_row, sheet_title

    w = report.words
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = sheet_title(w["report"], "Report")
    head = [w["kpi"], w["period"], w["value"], w["target"], w["attainment"], w["change"],
            w["status"], w["owner"]]  # fmt: skip
    for number, cells in enumerate([[report.title], [report.period_note], head], start=1):
        put_row(summary, number, cells)
    for number, line in enumerate(report.lines, start=4):
        put_row(summary, number, *_summary_row(line, report))
    summary.column_dimensions["A"].width = 36
    for column in "CDEF":
        summary.column_dimensions[column].width = 16
    history = book.create_sheet("History")
    row = 1
    for line in report.lines:
        put(history, row, 1, line.title)
        shape = number_format(Unit(line.unit), report.currency, report.lang)
        for offset, (label, value) in enumerate(line.history, start=1):
            put_row(history, row + offset, [label, value], [None, shape])
        if len(line.history) >= 2:
            chart = LineChart()
            chart.title = line.title
            chart.height, chart.width, chart.legend = 5, 12, None
            last = row + len(line.history)
            chart.add_data(Reference(history, min_col=2, min_row=row + 1, max_row=last))
            chart.set_categories(Reference(history, min_col=1, min_row=row + 1, max_row=last))
            history.add_chart(chart, f"D{row}")
        row += max(len(line.history) + 2, 12)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _summary_row(line: Line, report: Report) -> tuple[list[str | float | None], list[str | None]]:
    """A KPI's cells on the summary sheet and their number formats. A percentage's change is
    in points (`+1.5 pp`, written 1.5), any other's relative (`+12.0%`)."""
    from tolok.answers.export import number_format
    from tolok.display import round_money

    unit = Unit(line.unit)
    shape = number_format(unit, report.currency, report.lang)
    value, target = line.value, line.target
    if unit is Unit.currency:
        value, target = round_money(value, report.currency), round_money(target, report.currency)
    change, change_shape = line.change, "+0.0%;-0.0%;0.0%"
    if change is not None and unit is Unit.percent:
        change, change_shape = round(change * 100, 4), '+0.0#" pp";-0.0#" pp";0.0" pp"'
    cells = [line.title, line.period, value, target, line.attainment, change, line.status_text,
             line.owner]  # fmt: skip
    return cells, [None, None, shape, shape, "0%", change_shape, None, None]


def to_pdf(report: Report, chromium: str = "/usr/bin/chromium") -> bytes:
    """The HTML report printed to PDF by headless Chromium (a real browser's layout)."""
    import subprocess
    import tempfile

    if not Path(chromium).exists():
        raise ReportError(f"PDF needs Chromium at {chromium} (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="tolok-report-") as folder:
        page, pdf = Path(folder) / "report.html", Path(folder) / "report.pdf"
        page.write_text(to_html(report), encoding="utf-8")
        command = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
                   "--no-pdf-header-footer", f"--user-data-dir={folder}/profile",
                   f"--print-to-pdf={pdf}", page.as_uri()]  # fmt: skip
        done = subprocess.run(command, capture_output=True, timeout=120, check=False)
        if not pdf.exists() or pdf.stat().st_size == 0:
            why = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["?"]
            raise ReportError(f"Chromium did not print the report: {why[0]}")
        return pdf.read_bytes()

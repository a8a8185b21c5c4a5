"""A board or goal report for a period, to send or print: Markdown, self-contained HTML
(charts as inline SVG, no scripts), an Excel workbook with charts, or PDF (the HTML printed by
headless Chromium). Read from the store, in the project's language or the one asked."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tolok import clock
from tolok.spec.calendar import Calendar, PeriodError
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import Unit

if TYPE_CHECKING:
    from tolok.verdicts import KpiState

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


@dataclass(frozen=True)
class Report:
    project: str
    title: str
    lang: str
    made_at: str
    period_note: str
    lines: list[Line] = field(default_factory=list)
    words: dict[str, str] = field(default_factory=dict)


def build(
    loaded: LoadedProject, goal: str | None, period: str | None, lang: str | None = None
) -> Report:
    """The report of every active KPI (or those of `goal` and its sub-goals) in `period` (a
    day or a period label; each KPI's last closed period when None)."""
    from tolok.i18n import Formats, gettext
    from tolok.verdicts import kpi_states

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
        period_note=note, lines=lines,
        words={"kpi": _("KPI"), "period": _("Period"), "value": _("Value"),
               "target": _("Target"), "attainment": _("Attainment"), "status": _("Status"),
               "change": _("Change from the period before"), "owner": _("Owner"),
               "made": _("Made"), "report": _("Report")},
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
        change_text = fmt.change(None)
        if value is not None and previous is not None and kpi.unit is Unit.percent:
            decimals = fmt.value_decimals([value, previous], kpi.unit)
            change_text = fmt.points(value - previous, decimals)  # a rate moves in points
        elif value is not None and previous:
            change_text = fmt.change((value - previous) / abs(previous))
        lines.append(Line(
            name=name, title=kpi.title or name,
            period=fmt.period(latest.period, kpi.grain) if latest else "",
            value=value, value_text=fmt.value(value, kpi.unit),
            target=state.target, target_text=fmt.value(state.target, kpi.unit),
            attainment_text=fmt.share(state.attainment),
            status=state.standing.value, status_text=words[state.standing.value],
            change_text=change_text, owner=kpi.owner or "",
            history=[(fmt.period(p.period, kpi.grain), p.value) for p in before[-SPARK:]],
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
    w = report.words
    head = [w["kpi"], w["period"], w["value"], w["target"], w["attainment"], w["status"],
            w["change"], w["owner"]]  # fmt: skip
    out = [f"# {report.title}", "", f"{report.period_note} · {w['made']} {report.made_at}", ""]
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for line in report.lines:
        cells = [line.title, line.period, line.value_text, line.target_text,
                 line.attainment_text, line.status_text, line.change_text, line.owner]  # fmt: skip
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
    owners and labels are written as text, never as formulas (`tolok.export.put`)."""
    from openpyxl import Workbook
    from openpyxl.chart import LineChart, Reference

    from tolok.export import put, put_row, sheet_title

    w = report.words
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = sheet_title(w["report"], "Report")
    head = [w["kpi"], w["period"], w["value"], w["target"], w["status"], w["owner"]]
    table: list[Sequence[str | float | None]] = [[report.title], [report.period_note], head]
    table += [[line.title, line.period, line.value, line.target, line.status_text, line.owner]
              for line in report.lines]  # fmt: skip
    for number, cells in enumerate(table, start=1):
        put_row(summary, number, cells)
    summary.column_dimensions["A"].width = 36
    history = book.create_sheet("History")
    row = 1
    for line in report.lines:
        put(history, row, 1, line.title)
        for offset, (label, value) in enumerate(line.history, start=1):
            put_row(history, row + offset, [label, value])
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

"""`tolok report`: a board or goal report for a period, as Markdown, HTML, Excel or PDF."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from tolok import clock
from tolok.spec.loaded import LoadedProject

BINARY = {"pdf", "xlsx"}


def run_report(
    loaded: LoadedProject,
    goal: str | None,
    period: str | None,
    kind: str,
    output: Path | None,
    lang: str | None,
    out: Console,
    err: Console,
) -> bool:
    from tolok.cli.lang import counted, lang_of, words
    from tolok.i18n import gettext
    from tolok.notify import report as reports
    from tolok.said import error_text

    _ = gettext(lang) if lang else words(loaded.project)
    try:
        made = reports.build(loaded, goal, period, lang)
        body: str | bytes
        if kind == "md":
            body = reports.to_markdown(made)
        elif kind == "html":
            body = reports.to_html(made)
        elif kind == "xlsx":
            body = reports.to_xlsx(made)
        else:
            body = reports.to_pdf(made)
    except reports.ReportError as exc:
        err.print(error_text(str(exc), _), markup=False)
        return False
    if output is None and kind in BINARY:
        day = period or clock.today().isoformat()
        output = Path(f"report-{goal or 'board'}-{day}.{kind}")
    if output is None:
        assert isinstance(body, str)
        out.file.write(body)
        return True
    if isinstance(body, str):
        output.write_text(body, encoding="utf-8")
    else:
        output.write_bytes(body)
    kpis = counted(len(made.lines), _("{n} KPI"), _("{n} KPIs"), lang or lang_of(loaded.project))
    err.print(_("wrote {file} ({kpis})", file=output, kpis=kpis), markup=False)
    return True

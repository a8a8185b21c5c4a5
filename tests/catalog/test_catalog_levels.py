"""The catalog's levels at a coarser grain than their month: headcount, turnover and churn
of a quarter read the headcount or customers at its start and end, never the sum of its
months. Expected values worked out by hand from the rows (arithmetic in the comments)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.catalog.test_article_examples import Rows, _values
from tolok.spec.models import Grain

# month, joined, left, department: e1 stays all quarter, e2 leaves in February, e3 joins in
# February, e4 joins in January.
STAFF: Rows = [
    ("2026-01-01", False, False, "ops"),  # e1
    ("2026-01-01", False, False, "ops"),  # e2
    ("2026-01-01", True, False, "ops"),  # e4
    ("2026-02-01", False, False, "ops"),  # e1
    ("2026-02-01", False, True, "ops"),  # e2 leaves
    ("2026-02-01", True, False, "ops"),  # e3
    ("2026-02-01", False, False, "ops"),  # e4
    ("2026-03-01", False, False, "ops"),  # e1
    ("2026-03-01", False, False, "ops"),  # e3
    ("2026-03-01", False, False, "ops"),  # e4
]


def test_a_quarters_headcount_is_its_end(tmp_path: Path) -> None:
    staff = [(month, left, department) for month, _, left, department in STAFF]
    values = _values(tmp_path, "headcount", {"staff": staff}, grain=Grain.quarter)
    # 31 March: e1, e3, e4 (the sum of the months would say 3 + 3 + 3 = 9)
    assert values[("2026-Q1", None)] == 3


def test_a_quarters_turnover_divides_by_its_start_and_end(tmp_path: Path) -> None:
    values = _values(tmp_path, "employee_turnover", {"staff": STAFF}, grain=Grain.quarter)
    # 1 leaver (e2) / ((2 at the start: e1, e2 + 3 at the end: e1, e3, e4) / 2) = 0.4
    assert values[("2026-Q1", None)] == pytest.approx(0.4)


def test_a_quarters_churn_is_its_months_churn_together(tmp_path: Path) -> None:
    # month, start_mrr, end_mrr, plan: c1 and c2 pay from before; c2 cancels in February;
    # c3 starts paying in January, c4 in March.
    rows: Rows = [
        ("2026-01-01", 49, 49, "basic"),  # c1
        ("2026-01-01", 99, 99, "pro"),  # c2
        ("2026-01-01", 0, 49, "basic"),  # c3 starts
        ("2026-02-01", 49, 49, "basic"),  # c1
        ("2026-02-01", 99, 0, "pro"),  # c2 cancels
        ("2026-02-01", 49, 49, "basic"),  # c3
        ("2026-03-01", 49, 49, "basic"),  # c1
        ("2026-03-01", 49, 49, "basic"),  # c3
        ("2026-03-01", 0, 99, "pro"),  # c4 starts
    ]
    values = _values(tmp_path, "churn_rate", {"subscriptions": rows}, grain=Grain.quarter)
    # Held against a monthly target, the quarter is its months' churn together: 1 cancelled
    # (c2) / (2 paying at the start of January + 3 of February + 2 of March) = 1/7.
    assert values[("2026-Q1", None)] == pytest.approx(1 / 7)
    ends = [(month, end, plan) for month, _, end, plan in rows]
    mrr = _values(tmp_path / "mrr", "mrr", {"subscriptions": ends}, grain=Grain.quarter)
    # the end of March: c1 49 + c3 49 + c4 99 = 197
    assert mrr[("2026-Q1", None)] == 197

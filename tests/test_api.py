"""The Python API (issue 24, item 1): `tolok.open(path)` and its project's series, status,
explanation and refresh, on the example shop. Expected values are summed here from the
example's CSV with the csv module (orders are in UTC; the shop counts days in Jakarta,
UTC+7 all year), not with tolok. That the API judges every period as `tolok show`, the
pages and the alerts do is held in tests/test_verdicts_agree.py."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

import tolok
from tests.conftest import EXAMPLE

JAKARTA = dt.timedelta(hours=7)
TODAY = "2026-06-15"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("api") / "toko"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("*.db", "*.duckdb", "*.wal"))
    return root


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOLOK_TODAY", TODAY)


def paid_revenue() -> dict[tuple[str, str], float]:
    """(month, region) → the sum of paid orders' amounts, months in Jakarta time."""
    sums: dict[tuple[str, str], float] = defaultdict(float)
    with (EXAMPLE / "data" / "orders.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["Status"] != "paid":
                continue
            at = dt.datetime.fromisoformat(row["Order Date"].replace("Z", "+00:00")) + JAKARTA
            sums[(at.strftime("%Y-%m"), row["Region"])] += float(row["Jumlah (Rp)"])
    return dict(sums)


def test_a_series_by_region_is_the_sum_of_the_rows(shop: Path) -> None:
    project = tolok.open(shop)
    frame = project.series("revenue", by="Region", start="2026-01", end="2026-03")
    expected = {k: v for k, v in paid_revenue().items() if "2026-01" <= k[0] <= "2026-03"}
    found = {(r.label, r.Region): r.value for r in frame.itertuples()}
    assert found == pytest.approx(expected)
    assert str(frame["period"].dtype) == "datetime64[ns]"
    assert str(frame["value"].dtype) == "float64"
    assert list(frame["status"].cat.categories) == list(tolok.api.STATUSES)
    assert frame["period"].min() == pd.Timestamp("2026-01-01")
    assert frame.attrs["unit"] == "currency"
    assert frame.attrs["currency"] == "IDR"


def test_a_filter_and_a_comparison(shop: Path) -> None:
    project = tolok.open(shop)
    frame = project.series(
        "revenue", where="Region == 'Bali'", start="2026-02", end="2026-04", compare="last_year"
    )
    sums = paid_revenue()
    assert list(frame["label"]) == ["2026-02", "2026-03", "2026-04"]
    for row in frame.itertuples():
        year_ago = f"{int(row.label[:4]) - 1}{row.label[4:]}"
        assert row.value == pytest.approx(sums[(row.label, "Bali")])
        assert row.compare == pytest.approx(sums[(year_ago, "Bali")])
        assert row.change == pytest.approx(row.value / row.compare - 1)


def test_status_is_each_kpis_last_closed_month_and_the_one_under_way(shop: Path) -> None:
    project = tolok.open(shop)
    assert project.status().empty or project.status()["value"].isna().all()  # nothing stored
    done = project.refresh()
    assert "revenue" in done.recomputed
    assert not done.failed
    status = project.status().set_index("kpi")
    revenue = status.loc["revenue"]
    month = sum(v for (m, _), v in paid_revenue().items() if m == "2026-05")
    assert revenue["label"] == "2026-05"
    assert revenue["value"] == pytest.approx(month)
    assert revenue["attainment"] == pytest.approx(revenue["value"] / revenue["target"])
    assert revenue["open_period"] == pd.Timestamp("2026-06-01")
    assert revenue["status"] in ("on_track", "at_risk", "off_track")
    assert str(status["status"].dtype) == "category"
    assert project.refresh().unchanged  # nothing new: the KPIs are left as they were


def test_explain_splits_the_change_by_region(shop: Path) -> None:
    project = tolok.open(shop)
    frame = project.explain("revenue", period="2026-05", by="Region")
    sums = paid_revenue()
    for row in frame.itertuples():
        assert row.before == pytest.approx(sums[("2026-04", row.Region)])
        assert row.after == pytest.approx(sums[("2026-05", row.Region)])
        assert row.change == pytest.approx(row.after - row.before)
    assert frame["change"].sum() == pytest.approx(
        frame.attrs["value_after"] - frame.attrs["value_before"]
    )
    assert frame.attrs["after"] == dt.date(2026, 5, 1)


def test_questions_it_cannot_answer_say_what_to_fix(shop: Path) -> None:
    project = tolok.open(shop)
    with pytest.raises(tolok.QueryError, match="no KPI named 'revenu'"):
        project.series("revenu")
    with pytest.raises(tolok.QueryError, match="grain 'monthly' is not one of day, week"):
        project.series("revenue", grain="monthly")
    with pytest.raises(tolok.QueryError, match="'Provinsi' is not a dimension"):
        project.series("revenue", by=["Provinsi"])
    with pytest.raises(tolok.QueryError, match="2026-13"):
        project.series("revenue", start="2026-13")
    with pytest.raises(tolok.QueryError, match="compare 'yoy'"):
        project.explain("revenue", by="Region", compare="yoy")


def test_a_project_that_does_not_validate_is_a_located_error(tmp_path: Path) -> None:
    root = tmp_path / "broken"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("*.db", "*.duckdb", "*.wal"))
    sales = root / "kpis" / "sales.yaml"
    sales.write_text(
        sales.read_text(encoding="utf-8").replace("formula: revenue\n", "formula: revenue +\n", 1),
        encoding="utf-8",
    )
    with pytest.raises(tolok.ProjectError) as raised:
        tolok.open(root)
    problem = raised.value.problems[0]
    assert problem.where.file == sales
    assert (problem.where.line, problem.where.col) == (4, 21)  # just past the "+"
    assert "kpis/sales.yaml:4:21" in str(raised.value)


def test_import_tolok_stays_light() -> None:
    """`import tolok` imports neither pandas nor the engine until the API is used."""
    heavy = "('pandas', 'ibis', 'sqlalchemy')"
    code = f"import sys, tolok; print(sorted(m for m in {heavy} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_readmes_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ```python block of README.md's "From Python", run as written on a copy of the
    example (its path the only change)."""
    readme = (EXAMPLE.parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## From Python", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    root = tmp_path / "toko"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("*.db", "*.duckdb", "*.wal"))
    monkeypatch.chdir(tmp_path)
    names: dict[str, object] = {}
    exec(compile(code.replace("examples/toko", "toko"), "README.md", "exec"), names)
    frame = names["df"]
    assert isinstance(frame, pd.DataFrame)
    assert not frame.empty
    assert {"Region", "compare", "change"} <= set(frame.columns)


def test_in_jupyter_a_series_and_the_status_show_as_the_board_does(shop: Path) -> None:
    """`_repr_html_`: the KPI's title, its sparkline, each period's value in the project's
    money (rupiah, Indonesian digits) and its status as a coloured badge in the project's
    language; names from the YAML escaped. A frame cut to other columns is a plain frame."""
    project = tolok.open(shop)
    frame = project.series("revenue", start="2026-01", end="2026-03")
    html = frame._repr_html_()
    assert html is not None
    assert "<strong>Revenue</strong>" in html
    assert "<polyline points=" in html
    expected = sum(v for (m, _), v in paid_revenue().items() if m == "2026-02")
    assert f"Rp {expected:,.0f}".replace(",", ".") in html.replace("\xa0", " ")
    words = {"on_track": "Sesuai target", "at_risk": "Berisiko", "off_track": "Meleset"}
    for status in frame["status"].dropna():
        if status in words:
            assert words[status] in html
    frame.attrs["title"] = "<script>alert(1)</script>"
    assert "<script>" not in (frame._repr_html_() or "")
    assert "<table" in (frame[["label", "value"]]._repr_html_() or "")  # pandas' own
    project.refresh()
    table = project.status()._repr_html_() or ""
    assert "Customer acquisition cost" in table
    assert "penanggung jawab" in table

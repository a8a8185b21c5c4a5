"""The terminal in Indonesian: a `locale: id` project (the example shop) speaks Indonesian in
every command — headers, status words, numbers, periods, summary lines — and `--lang` or
$TOLOK_LANG chooses another language; English counts agree with their nouns; the catalog
pipes whole names; `tolok init`'s suggestions run from where the user is."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import EXAMPLE
from tolok.cli import app

FIXTURES = Path(__file__).parents[1] / "fixtures" / "projects"
TODAY = "2026-11-15"
runner = CliRunner(env={"TOLOK_TODAY": TODAY, "TOLOK_LANG": None})
STATUS_ID = {"sesuai target", "berisiko", "meleset", "tanpa target", "tanpa data"}
STATUS_EN = {"on track", "at risk", "off track", "no target", "no data"}


def run(*args: str, code: int = 0) -> tuple[str, str]:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.stdout, result.stderr


def rows(text: str) -> list[list[str]]:
    return [line.split("\t") for line in text.splitlines() if line]


@pytest.fixture(scope="module")
def toko(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example shop (`locale: id`), refreshed once: the first refresh's board and notes."""
    target = tmp_path_factory.mktemp("id") / "toko"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("*.duckdb*", "tolok.db*"))
    return target


@pytest.fixture(scope="module")
def board(toko: Path) -> tuple[str, str]:
    return run("refresh", str(toko))


def test_refresh_prints_the_board_in_indonesian(board: tuple[str, str]) -> None:
    out, err = board
    table = rows(out)
    assert table[0] == [
        "kpi", "periode", "nilai", "vs sebelumnya", "12 terakhir", "status",
        "periode berjalan", "sejauh ini", "arah", "penanggung jawab",
    ]  # fmt: skip
    revenue = next(r for r in table if r[0] == "Revenue")
    assert revenue[1] == "Okt 2026"  # the pages' period names
    assert re.fullmatch(r"Rp\s\d{1,3}(\.\d{3})+", revenue[2]), revenue  # Rp 120.708.000
    assert re.fullmatch(r"[+-]\d+,\d%", revenue[3]), revenue  # +8,8%
    assert revenue[6] == "Nov 2026 (47%)"
    assert {r[5] for r in table[1:]} <= STATUS_ID
    assert {r[8] for r in table[1:]} <= STATUS_ID | {"dinilai setelah berakhir"}
    assert "definisi 14 KPI dicatat (v1)" in err
    assert "juga dihitung: revenue per Channel, revenue per Region" in err


def test_status_and_goals_in_indonesian(toko: Path, board: tuple[str, str]) -> None:
    out, _ = run("status", str(toko))
    table = rows(out)
    assert table[0][:7] == [
        "sasaran", "kpi", "periode", "nilai", "target", "capaian", "status",
    ]  # fmt: skip
    assert table[0][-2:] == ["prakiraan (80%)", "penanggung jawab"]
    assert {r[6] for r in table[1:]} <= STATUS_ID
    assert not {r[6] for r in table[1:]} & STATUS_EN
    assert any(r[0] == "(tanpa sasaran)" for r in table[1:])
    forecast = next(r[11] for r in table[1:] if r[11])
    assert " sampai " in forecast  # 3,97 (3,94 sampai 4,00)
    out, _ = run("goals", str(toko))
    first = out.splitlines()[0]
    assert re.search(r"\[(sesuai target|berisiko|meleset|tanpa target|tanpa data), \d+%\]", first)
    assert "kesenjangan terutama karena:" in out


def test_explain_and_show_in_indonesian(toko: Path, board: tuple[str, str]) -> None:
    out, _ = run("explain", "revenue", "-p", str(toko))
    lines = rows(out)
    assert lines[0] == ["Revenue: perubahan Sep 2026 -> Okt 2026, menurut Region"]
    assert lines[1] == ["Region", "sebelum", "sesudah", "kontribusi"]
    assert lines[-1][0] == "total" or lines[-2][0] == "total"
    out, _ = run("show", "revenue", "-p", str(toko), "--from", "2026-09")
    table = rows(out)
    assert table[0] == ["periode", "nilai", "target", "status"]
    assert [r[0] for r in table[1:]] == ["Sep 2026", "Okt 2026", "Nov 2026"]
    assert table[2][3] in STATUS_ID
    assert re.fullmatch(r"sejauh ini \(47%\), menuju (sesuai target|berisiko|meleset)", table[3][3])


def test_lint_and_validate_summaries_in_indonesian(toko: Path) -> None:
    out, _ = run("lint", str(toko), "--no-data")
    assert re.fullmatch(r"\d+ temuan: \d+ galat, \d+ peringatan, \d+ catatan", out.splitlines()[-1])
    out, _ = run("validate", str(toko))
    assert out.strip() == "Toko Maju valid: 14 KPI, 5 dataset, 5 sasaran"


def test_lang_option_and_environment_choose_english(toko: Path) -> None:
    out, _ = run("--lang", "en", "validate", str(toko))
    assert out.strip() == "Toko Maju is valid: 14 KPIs, 5 datasets, 5 goals"
    result = CliRunner(env={"TOLOK_LANG": "en"}).invoke(app, ["validate", str(toko)])
    assert result.stdout.strip() == "Toko Maju is valid: 14 KPIs, 5 datasets, 5 goals"
    out, _ = run("--lang", "en", "lint", str(toko), "--no-data")
    summary = out.splitlines()[-1]
    assert re.fullmatch(r"\d+ findings: 0 errors, \d+ warnings?, \d+ notes?", summary), summary
    assert "error(s)" not in summary
    refused = runner.invoke(app, ["--lang", "fr", "validate", str(toko)])
    assert refused.exit_code == 2


def test_english_counts_agree_with_their_nouns() -> None:
    out, _ = run("validate", str(FIXTURES / "wrong_arity"), code=1)
    assert out.splitlines()[-1] == "1 error, 0 warnings"
    out, _ = run("validate", str(FIXTURES / "many_problems"), code=1)
    assert out.splitlines()[-1] == "6 errors, 0 warnings"
    out, _ = run("--lang", "id", "validate", str(FIXTURES / "many_problems"), code=1)
    assert out.splitlines()[-1] == "6 galat, 0 peringatan"


def test_catalog_piped_is_tab_separated_with_whole_names() -> None:
    for args in (["catalog"], ["catalog", "search", "customer"]):
        out, _ = run(*args)
        table = rows(out)
        assert table[0] == ["name", "KPI", "function", "level", "indicator", "unit"]
        assert all(len(r) == 6 for r in table)
        assert "customer_lifetime_value" in [r[0] for r in table]
    out, _ = run("--lang", "id", "catalog", "search", "pelanggan")
    table = rows(out)
    assert table[0] == ["nama", "KPI", "fungsi", "tingkat", "indikator", "satuan"]
    assert "customer_acquisition_cost" in [r[0] for r in table]


def test_init_speaks_indonesian_and_its_suggestions_run_from_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out, _ = run("init", "shop", "--template", "support", "--lang", "id")
    assert re.search(r"\d{1,3}(\.\d{3})+ baris data contoh", out), out  # 43.430 baris
    tries = out.split("Coba:\n")[1].splitlines()
    commands = [re.split(r"\s{2,}", line.strip())[0] for line in tries]
    assert "tolok refresh shop" in commands
    assert "tolok impact 1 -p shop" in commands
    for command in ("tolok refresh shop", "tolok impact 1 -p shop"):
        said, _ = run(*shlex.split(command)[1:])  # from the folder the user is in
    assert said.startswith("anotasi 1: ")
    assert re.search(r"kemungkinan|tidak ada efek", said)

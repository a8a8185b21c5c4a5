"""`tolok validate` in Indonesian: a broken project's problems — their messages, hints, the
words `error`/`warning` and the summary — are said in Indonesian with `--lang id`, with
$TOLOK_LANG=id or in a `locale: id` project (also one that does not load); places
(file:line:col), codes, names and keys stay as written; English and `--format json` are
unchanged."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.server.test_no_english_in_id import ENGLISH
from tolok.cli import app
from tolok.spec.loader import load_project

runner = CliRunner(env={"TOLOK_LANG": None})

MAIN = """\
name: Toko Rusak
{locale}datasets:
  pesanan:
    source: file:data/tidak_ada.csv
    time: dipesan_pada
    measures:
      omzet: {{agg: sum, expr: jumlah}}
kpis:
  omzet_bulanan:
    title: Omzet
    formula: omzet
    grain: bulanan
    tujuan: naik
  rasio:
    title: Rasio
    formula: omzet / pembeli
    goal: tumbuh
  tanpa_rumus:
    title: Tanpa rumus
  rusak:
    title: Rusak
    formula: omzet / (2
"""
MORE = """\
rasio:
  title: Rasio lagi
  formula: omzet
"""
# Names, keys, codes and values of the project (and words Indonesian writes too) that an
# Indonesian problem may show as they are.
ALLOWED = {"tolok", "yaml", "kpi", "tlk", "in", "formula", "goal", "goals", "name", "data",
           "csv", "dataset", "datasets", "measures"}  # fmt: skip
PLACES = [
    "kpis/more.yaml:1:1: ",
    "tolok.yaml:4:13: ",
    "tolok.yaml:12:12: ",
    "tolok.yaml:13:5: ",
    "tolok.yaml:16:22: ",
    "tolok.yaml:17:11: ",
    "tolok.yaml:18:3: ",
    "tolok.yaml:22:22: ",
]


def broken(folder: Path, locale: str = "") -> Path:
    (folder / "kpis").mkdir(parents=True)
    (folder / "tolok.yaml").write_text(MAIN.format(locale=locale), encoding="utf-8")
    (folder / "kpis" / "more.yaml").write_text(MORE, encoding="utf-8")
    return folder


def validate(*args: str, env: dict[str, str] | None = None) -> str:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 1, result.output
    return result.stdout


def english_words(text: str) -> list[str]:
    """The English words of `text` once its quoted names, `keys` and paths are taken out."""
    text = re.sub(r"'[^']*'|`[^`]*`|\S+\.(yaml|csv)\S*|\[TLK\d+\]|\w+(, \w+)+", " ", text)
    return [w for w in re.findall(r"[a-z]+", text.lower()) if w in ENGLISH and w not in ALLOWED]


def headlines(out: str) -> list[str]:
    return [line for line in out.splitlines() if re.match(r"\S+\.yaml:\d+:\d+: ", line)]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return broken(tmp_path / "rusak")


def test_every_problem_is_said_in_indonesian_with_lang_id(project: Path) -> None:
    out = validate("--lang", "id", "validate", str(project))
    heads = headlines(out)
    assert [h[: h.index(": ") + 2] for h in heads] == PLACES  # the places, unchanged
    assert all(re.search(r": galat\[TLK0\d\d\] ", h) for h in heads), heads
    hints = [line for line in out.splitlines() if line.startswith("  petunjuk: ")]
    assert len(hints) >= 6
    assert "hint:" not in out
    assert "error[" not in out
    assert english_words("\n".join(heads + hints)) == []
    assert out.rstrip().endswith("8 galat, 0 peringatan")


def test_each_kind_of_problem_in_indonesian(project: Path) -> None:
    out = validate("--lang", "id", "validate", str(project))
    for said in [
        "galat[TLK005] KPI 'rasio' ganda: juga didefinisikan di tolok.yaml:14:3",  # duplicate
        "galat[TLK007] tidak ada berkas yang cocok dengan 'data/tidak_ada.csv'",  # missing file
        "galat[TLK004] 'bulanan' bukan grain yang sah",  # bad value
        "  petunjuk: pakai salah satu dari: day, week, month",
        "galat[TLK002] kunci 'tujuan' tidak dikenal",  # unknown key
        "galat[TLK011] nama 'pembeli' tidak dikenal",  # unknown name in a formula
        "galat[TLK008] sasaran 'tumbuh' tidak dikenal",  # unknown goal
        "  petunjuk: definisikan di bawah `goals:`",
        "galat[TLK003] kunci wajib 'formula' tidak ada",  # missing key
        "  petunjuk: tambahkan `formula: …`",
        "galat[TLK010] rumus tidak bisa dibaca di sini: '(' tidak pernah ditutup",  # syntax
    ]:
        assert said in out, said


def test_a_locale_id_project_speaks_indonesian(tmp_path: Path) -> None:
    project = broken(tmp_path / "rusak", locale="locale: id\n")
    out = validate("validate", str(project))
    assert "galat[TLK002] kunci 'tujuan' tidak dikenal" in out
    assert [h[: h.index(": ") + 2] for h in headlines(out)] == [
        p.replace("tolok.yaml:", "tolok.yaml:") for p in _shifted(PLACES)
    ]
    assert out.rstrip().endswith("8 galat, 0 peringatan")
    english = validate("--lang", "en", "validate", str(project))  # asked for: English
    assert "error[TLK002] unknown key 'tujuan'" in english


def _shifted(places: list[str]) -> list[str]:
    """The places of `MAIN` with a `locale:` line added as its second line."""
    out = []
    for place in places:
        file, line, rest = place.split(":", 2)
        out.append(f"{file}:{int(line) + (file == 'tolok.yaml')}:{rest}")
    return out


def test_tolok_lang_in_the_environment(project: Path) -> None:
    out = validate("validate", str(project), env={"TOLOK_LANG": "id"})
    assert "galat[TLK011] nama 'pembeli' tidak dikenal" in out


def test_a_project_that_does_not_load_speaks_its_locale(tmp_path: Path) -> None:
    """No project to read `locale` from: it is read from tolok.yaml as written."""
    folder = tmp_path / "kosong"
    folder.mkdir()
    (folder / "tolok.yaml").write_text("locale: id\nnama: Toko\n", encoding="utf-8")
    out = validate("validate", str(folder))
    assert "kunci 'nama' tidak dikenal" in out
    assert "petunjuk: maksud Anda 'name'?" in out
    (folder / "tolok.yaml").write_text("locale: id\nkpis: [\n", encoding="utf-8")
    out = validate("validate", str(folder))
    assert "error[TLK001] YAML cannot be read" in out  # not read: English unless asked
    assert "petunjuk:" in validate("--lang", "id", "validate", str(folder / "nothing"))


def test_english_is_unchanged(project: Path) -> None:
    out = validate("--lang", "en", "validate", str(project))
    for said in [
        "tolok.yaml:17:11: error[TLK008] unknown goal 'tumbuh'",
        "  hint: define it under `goals:`",
        "tolok.yaml:12:12: error[TLK004] 'bulanan' is not a valid grain",
        "tolok.yaml:18:3: error[TLK003] missing required key 'formula'",
        "kpis/more.yaml:1:1: error[TLK005] duplicate KPI 'rasio': also defined at tolok.yaml:14:3",
        "tolok.yaml:16:22: error[TLK011] unknown name 'pembeli'",
        "tolok.yaml:22:22: error[TLK010] cannot read the formula here: '(' was never closed",
    ]:
        assert said in out, said
    assert out.rstrip().endswith("8 errors, 0 warnings")


def test_json_is_the_same_in_every_language(project: Path) -> None:
    """Tools read `--format json`: English messages, whatever the language asked for."""
    english = runner.invoke(app, ["--lang", "en", "validate", str(project), "--format", "json"])
    indonesian = runner.invoke(app, ["--lang", "id", "validate", str(project), "--format", "json"])
    assert english.stdout == indonesian.stdout
    report = json.loads(english.stdout)
    assert {e["message"] for e in report["errors"]} >= {"unknown goal 'tumbuh'"}
    assert report == json.loads(load_project(project).problems.to_json(project.resolve()))


def test_numbers_in_a_message_follow_the_language(tmp_path: Path) -> None:
    folder = tmp_path / "panjang"
    folder.mkdir()
    formula = " + ".join(["omzet"] * 1000)
    (folder / "tolok.yaml").write_text(
        "name: Panjang\nlocale: id\ndatasets:\n  p:\n    source: manual\n    measures:\n"
        f"      omzet: {{agg: sum}}\nkpis:\n  k:\n    formula: {formula}\n",
        encoding="utf-8",
    )
    out = validate("validate", str(folder))
    assert "rumus terlalu panjang (7.997 karakter; paling banyak" in out
    out = validate("--lang", "en", "validate", str(folder))
    assert "formula is too long (7,997 characters; at most" in out

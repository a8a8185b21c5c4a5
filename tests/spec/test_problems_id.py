"""A problem keeps its English template and its values, and is worded when shown: in English
for tools (`message`, `hint`, `to_json`), in the reader's language on screen (`Voice`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tolok.i18n import voice
from tolok.spec.loader import load_project
from tolok.spec.problems import Location, Problems, Text, say

INDONESIAN = voice("id")


def test_a_text_is_english_until_worded() -> None:
    text = say("unknown key '{key}'", key="formular")
    assert str(text) == "unknown key 'formular'"
    assert text.worded(INDONESIAN) == "kunci 'formular' tidak dikenal"
    assert Text.plain("as {it} is").worded(INDONESIAN) == "as {it} is"


def test_numbers_follow_the_language_names_do_not() -> None:
    text = say("more than {n} {things} in the project, the most tolok reads", n=5000,
               things=say("KPIs"))  # fmt: skip
    assert str(text) == "more than 5,000 KPIs in the project, the most tolok reads"
    assert text.worded(INDONESIAN) == "lebih dari 5.000 KPI dalam proyek, batas yang dibaca tolok"


def test_a_problem_renders_in_a_voice_and_stays_english_for_tools(tmp_path: Path) -> None:
    problems = Problems()
    where = Location(tmp_path / "tolok.yaml", 2, 3, 4)
    problems.add("TLK008", say("unknown goal '{name}'", name="tumbuh"), where,
                 say("define it under `{section}:`", section="goals"))  # fmt: skip
    problem = problems.items[0]
    assert (problem.message, problem.hint) == ("unknown goal 'tumbuh'", "define it under `goals:`")
    lines = ["name: x\n", "  goal: tumbuh\n"]
    assert problem.render(tmp_path, lines, INDONESIAN).splitlines() == [
        "tolok.yaml:2:3: galat[TLK008] sasaran 'tumbuh' tidak dikenal",
        "   2 |   goal: tumbuh",
        "         ^^^^",
        "  petunjuk: definisikan di bawah `goals:`",
    ]
    assert problem.render(tmp_path, lines).splitlines()[0] == (
        "tolok.yaml:2:3: error[TLK008] unknown goal 'tumbuh'"
    )
    assert '"message": "unknown goal \'tumbuh\'"' in problems.to_json(tmp_path)


def test_a_plain_string_problem_is_shown_as_written(tmp_path: Path) -> None:
    problems = Problems()
    problems.add("TLK020", "as {written}", Location(tmp_path / "a.yaml", 1, 1), "so {it} is")
    shown = problems.items[0].render(tmp_path, None, INDONESIAN)
    assert shown == "a.yaml:1:1: galat[TLK020] as {written}\n  petunjuk: so {it} is"


@pytest.mark.parametrize(
    ("yaml", "english", "indonesian"),
    [
        ("  timezone: Mars/Olympus\n", "'Mars/Olympus' is not a time zone name such as",
         "'Mars/Olympus' bukan nama zona waktu seperti Asia/Jakarta atau UTC"),
        ("  week_start: someday\n", "'someday' is not a valid week_start",
         "'someday' bukan week_start yang sah"),
        ("  fiscal_year_start: [1]\n", "'[1]' is not a valid fiscal_year_start",
         "'[1]' bukan fiscal_year_start yang sah"),
    ],
)  # fmt: skip
def test_pydantic_and_validator_errors_are_translated(
    tmp_path: Path, yaml: str, english: str, indonesian: str
) -> None:
    (tmp_path / "tolok.yaml").write_text("name: x\n" + yaml.strip() + "\n", encoding="utf-8")
    loaded = load_project(tmp_path)
    problem = loaded.problems.items[0]
    assert english in problem.message
    assert problem.message_in(INDONESIAN).startswith(indonesian)


def test_a_formula_problem_from_a_validator_keeps_its_place(tmp_path: Path) -> None:
    (tmp_path / "tolok.yaml").write_text(
        "name: x\ndatasets:\n  p:\n    source: manual\n    measures:\n      omzet: {agg: sum}\n"
        "kpis:\n  k:\n    formula: growth(omzet, 0)\n",
        encoding="utf-8",
    )
    problem = load_project(tmp_path).problems.items[0]
    assert (problem.where.line, problem.where.col) == (9, 28)
    assert problem.message == (
        "argument 2 of growth() must be a whole number of periods, 1 or more"
    )
    assert problem.message_in(INDONESIAN) == (
        "argumen ke-2 dari growth() harus berupa bilangan bulat jumlah periode, 1 atau lebih"
    )
    assert problem.hint_in(INDONESIAN) == "tulis seperti growth(x[, n])"

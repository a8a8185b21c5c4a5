"""The YAML writer (`tolok.spec.edit`): a change touches only its lines, keeps the team's
comments and layout, validates the whole project first, notices a file changed meanwhile,
and writes all of its files or none."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tolok.spec.edit import (
    Change,
    ConflictError,
    InvalidError,
    MissingError,
    TakenError,
    apply,
    fingerprints,
    prepare,
    write,
)
from tolok.spec.loader import load_project

MAIN = """\
# Shop KPIs, reviewed on Mondays.   # a comment on the first line
name:   "Shop"                        # quoted, spaced out
warehouse: duckdb://
datasets:                             # where the numbers come from
    orders:                           # four-space mappings
        source: 'file:orders.csv'     # single-quoted
        time: ordered_at
        dimensions:
          - region                    # offset dash
          - channel
        measures:
            revenue:     {agg: sum,  expr: amount}    # aligned, odd spacing
            order_count: {agg: count}                 # another
goals:
    grow: {title: "Grow",   level: strategic}         # a flow goal
"""

KPIS = """\
# Marketing's KPIs
revenue:                   # money in
    title: Revenue         # shown on the board
    formula: revenue       # the sum of amounts
    unit: currency
    function: sales
    goal: grow
    tags: [money,   core]  # flow list, spaced
    target: &t {value: 300, from: 2026-01}
aov:
    title: 'Average order'
    formula: revenue / order_count
    function: sales
    target: *t
"""

OTHER = """\
kpis:
  visits_kpi:
    formula: order_count
    function: marketing
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "orders.csv").write_text(
        "ordered_at,region,channel,amount\n2026-01-05,Bali,web,100\n", encoding="utf-8"
    )
    (tmp_path / "tolok.yaml").write_text(MAIN, encoding="utf-8")
    (tmp_path / "kpis").mkdir()
    (tmp_path / "kpis" / "sales.yaml").write_text(KPIS, encoding="utf-8")
    (tmp_path / "kpis" / "web.yaml").write_text(OTHER, encoding="utf-8")
    assert load_project(tmp_path).ok, load_project(tmp_path).problems.errors
    return tmp_path


def texts(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*.yaml"))
        if not p.name.startswith(".")
    }


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    old, new = before.splitlines(), after.splitlines()
    assert len(old) == len(new), (before, after)
    return [(a, b) for a, b in zip(old, new, strict=True) if a != b]


def definition(root: Path, section: str, name: str) -> dict[str, object]:
    from tolok.spec.edit import as_json

    loaded = load_project(root)
    result: dict[str, object] = as_json(loaded.entries[(section, name)].node)
    return result


def test_a_changed_formula_changes_that_line_only(root: Path) -> None:
    kpi = definition(root, "kpis", "revenue")
    kpi["formula"] = "revenue * 2"
    written = apply(root, [Change("kpis", "revenue", kpi)])
    after = (root / "kpis" / "sales.yaml").read_text(encoding="utf-8")
    [(old, new)] = changed_lines(KPIS, after)
    assert old == "    formula: revenue       # the sum of amounts"
    assert new.startswith("    formula: revenue * 2")
    assert new.endswith("# the sum of amounts")
    assert (root / "tolok.yaml").read_text(encoding="utf-8") == MAIN
    assert list(written.diffs) == ["kpis/sales.yaml"]
    diff = written.diffs["kpis/sales.yaml"]
    assert "-    formula: revenue       # the sum of amounts" in diff
    assert sum(1 for line in diff.splitlines() if line.startswith(("+ ", "+\t", "+  "))) == 1
    assert load_project(root).project.kpis["revenue"].formula == "revenue * 2"  # type: ignore[union-attr]


def test_odd_layout_is_kept_when_a_measure_and_a_dimension_change(root: Path) -> None:
    data = definition(root, "datasets", "orders")
    data["measures"]["order_count"] = {"agg": "count_distinct", "expr": "region"}  # type: ignore[index]
    data["dimensions"] = ["region", "channel", "amount"]
    apply(root, [Change("datasets", "orders", data)])
    after = (root / "tolok.yaml").read_text(encoding="utf-8")
    old, new = MAIN.splitlines(), after.splitlines()
    kept = [line for line in old if "order_count" not in line]
    assert all(line in new for line in kept)  # every other line, byte for byte
    assert "          - amount" in new  # the new item in the file's own offset dashes
    [count] = [line for line in new if "order_count" in line]
    assert "count_distinct" in count
    assert "# another" in count
    assert load_project(root).ok


def test_a_new_kpi_goes_to_the_file_of_its_function(root: Path) -> None:
    new = {"title": "Orders", "formula": "order_count", "function": "sales"}
    written = apply(root, [Change("kpis", "orders_kpi", new, new=True)])
    assert list(written.diffs) == ["kpis/sales.yaml"]
    sales = (root / "kpis" / "sales.yaml").read_text(encoding="utf-8")
    assert sales.startswith(KPIS)  # appended; everything before it as it was
    assert "orders_kpi:\n    title: Orders\n    formula: order_count\n" in sales
    web = {"formula": "order_count", "function": "website"}
    apply(root, [Change("kpis", "site_kpi", web, new=True)])  # no website KPIs yet
    assert "site_kpi" in (root / "kpis" / "sales.yaml").read_text(encoding="utf-8")
    loaded = load_project(root)
    assert loaded.ok
    assert {"orders_kpi", "site_kpi"} <= set(loaded.project.kpis)


def test_a_new_kpi_in_a_project_without_a_kpis_folder_makes_one(tmp_path: Path) -> None:
    (tmp_path / "tolok.yaml").write_text(
        "name: S\ndatasets:\n  d:\n    source: manual\n    measures:\n      m: {agg: sum}\n",
        encoding="utf-8",
    )
    apply(tmp_path, [Change("kpis", "k", {"formula": "m", "function": "finance"}, new=True)])
    made = tmp_path / "kpis" / "finance.yaml"
    assert made.read_text(encoding="utf-8") == "k:\n  formula: m\n  function: finance\n"
    assert oct(made.stat().st_mode & 0o777) == "0o644"
    assert load_project(tmp_path).project.kpis["k"].formula == "m"  # type: ignore[union-attr]


def test_an_invalid_change_writes_nothing_and_says_where(root: Path) -> None:
    before = texts(root)
    kpi = definition(root, "kpis", "aov")
    kpi["formula"] = "revenue / order_cnt"
    with pytest.raises(InvalidError) as raised:
        apply(root, [Change("kpis", "aov", kpi)])
    assert texts(root) == before
    [problem] = raised.value.problems
    assert problem.problem.code == "TLK011"
    assert problem.path == ("kpis", "aov", "formula")
    assert problem.file == "kpis/sales.yaml"
    assert (problem.problem.where.line, problem.problem.where.col) == (12, 24)


def test_a_typo_in_a_key_points_at_the_key(root: Path) -> None:
    kpi = definition(root, "kpis", "aov")
    kpi["formular"] = kpi.pop("formula")
    with pytest.raises(InvalidError) as raised:
        apply(root, [Change("kpis", "aov", kpi)])
    [problem] = raised.value.problems
    assert (problem.problem.code, problem.path) == ("TLK002", ("kpis", "aov", "formular"))


def test_a_dataset_a_kpi_uses_cannot_be_deleted(root: Path) -> None:
    before = texts(root)
    with pytest.raises(InvalidError) as raised:
        apply(root, [Change("datasets", "orders", None)])
    assert texts(root) == before
    unknown = {p.path for p in raised.value.problems if p.problem.code == "TLK011"}
    assert ("kpis", "aov", "formula") in unknown  # order_count is gone with its dataset


def test_a_file_changed_since_its_fingerprint_is_a_conflict(root: Path) -> None:
    seen = fingerprints(load_project(root))
    assert set(seen) == {"tolok.yaml", "kpis/sales.yaml", "kpis/web.yaml"}
    other = KPIS.replace("title: Revenue ", "title: Income  ")
    (root / "kpis" / "sales.yaml").write_text(other, encoding="utf-8")  # a second editor
    kpi = definition(root, "kpis", "revenue")
    kpi["unit"] = "number"
    with pytest.raises(ConflictError) as raised:
        apply(root, [Change("kpis", "revenue", kpi)], seen)
    assert raised.value.file == "kpis/sales.yaml"
    assert raised.value.current == other
    assert "unit: number" in raised.value.proposed
    assert "Income" in raised.value.proposed
    assert (root / "kpis" / "sales.yaml").read_text(encoding="utf-8") == other
    fresh = fingerprints(load_project(root))
    apply(root, [Change("kpis", "revenue", kpi)], fresh)  # with the new fingerprints: fine
    assert "unit: number" in (root / "kpis" / "sales.yaml").read_text(encoding="utf-8")


def test_a_file_changed_between_validation_and_writing_is_a_conflict(root: Path) -> None:
    draft = prepare(root, [Change("goals", "grow", {"title": "Grow more"}, merge=True)])
    (root / "tolok.yaml").write_text(MAIN + "# touched\n", encoding="utf-8")
    with pytest.raises(ConflictError):
        write(draft)
    assert (root / "tolok.yaml").read_text(encoding="utf-8") == MAIN + "# touched\n"


def test_a_failed_write_leaves_every_file_as_it_was(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = texts(root)
    changes = [
        Change("goals", "grow", {"title": "Grow more"}, merge=True),
        Change("kpis", "revenue", {"title": "Income"}, merge=True),
    ]
    draft = prepare(root, changes)
    assert len(draft.texts) == 2
    real = os.replace
    calls: list[str] = []

    def failing(src: str, dst: object) -> None:
        calls.append(str(dst))
        if len(calls) == 2:
            raise OSError("disk full")
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(OSError, match="disk full"):
        write(draft)
    monkeypatch.setattr(os, "replace", real)
    assert texts(root) == before
    assert not [p for p in root.rglob(".*") if p.is_file()]  # no temporary file left


def test_merge_sets_only_the_keys_given_and_keeps_anchors(root: Path) -> None:
    apply(root, [Change("kpis", "aov", {"title": "AOV", "tags": ["x"]}, merge=True)])
    after = (root / "kpis" / "sales.yaml").read_text(encoding="utf-8")
    assert "    title: 'AOV'" in after  # its quotes kept
    assert "    target: *t" in after
    assert "&t {value: 300" in after
    project = load_project(root).project
    assert project is not None
    assert project.kpis["aov"].target == project.kpis["revenue"].target


def test_retire_then_delete_and_the_names_checked(root: Path) -> None:
    apply(root, [Change("kpis", "visits_kpi", {"status": "retired"}, merge=True)])
    web = (root / "kpis" / "web.yaml").read_text(encoding="utf-8")
    assert web == OTHER + "    status: retired\n"
    apply(root, [Change("kpis", "visits_kpi", None)])
    assert (root / "kpis" / "web.yaml").read_text(encoding="utf-8") == "kpis: {}\n"
    with pytest.raises(MissingError):
        apply(root, [Change("kpis", "visits_kpi", {"status": "active"}, merge=True)])
    with pytest.raises(TakenError):
        apply(root, [Change("kpis", "aov", {"formula": "revenue"}, new=True)])


def test_a_same_value_written_differently_is_no_change(root: Path) -> None:
    kpi = definition(root, "kpis", "revenue")
    kpi["target"] = {"from": "2026-01", "value": 300.0}  # other order, a float
    draft = prepare(root, [Change("kpis", "revenue", kpi)])
    assert draft.texts == {}


def test_a_file_that_cannot_be_read_is_refused_with_its_problem(root: Path) -> None:
    broken = KPIS + "oops: [unclosed\n"
    (root / "kpis" / "sales.yaml").write_text(broken, encoding="utf-8")
    with pytest.raises(InvalidError) as raised:
        apply(root, [Change("kpis", "visits_kpi", {"title": "Visits"}, merge=True)])
    assert raised.value.problems[0].problem.code == "TLK001"
    assert raised.value.problems[0].file == "kpis/sales.yaml"
    assert (root / "kpis" / "sales.yaml").read_text(encoding="utf-8") == broken
    assert (root / "kpis" / "web.yaml").read_text(encoding="utf-8") == OTHER


def test_comments_on_every_line_survive_a_new_key_and_a_removed_one(root: Path) -> None:
    kpi = definition(root, "kpis", "revenue")
    del kpi["tags"]
    kpi["indicator"] = "lagging"
    apply(root, [Change("kpis", "revenue", kpi)])
    after = (root / "kpis" / "sales.yaml").read_text(encoding="utf-8")
    gone = [line for line in KPIS.splitlines() if line not in after.splitlines()]
    assert gone == ["    tags: [money,   core]  # flow list, spaced"]
    added = [line for line in after.splitlines() if line not in KPIS.splitlines()]
    assert [line.strip() for line in added] == ["indicator: lagging"]


# --- alert rules and schedules: tolok.yaml's sharing part --------------------------------

SHARING = (
    "# Who hears what.\r\n"
    "name: Shop\r\n"
    "warehouse: duckdb://\r\n"
    "datasets:\r\n"
    "  orders: {source: 'file:orders.csv', time: ordered_at, measures: {revenue: {agg: sum, "
    "expr: amount}, order_count: {agg: count}}}\r\n"
    "kpis:\r\n"
    "  revenue: {formula: revenue, tags: [money]}\r\n"
    "channels:\r\n"
    "  chat: {webhook: 'https://hooks.example.com/T0'}   # the team's chat\r\n"
    "alerts:\r\n"
    '  "slips":                 # quoted key\r\n'
    "    when: status\r\n"
    "    kpis: &watched [revenue]\r\n"
    "    notify: [chat]\r\n"
    '    note: "look\tfirst"      # a tab inside a string\r\n'
    "  drop: {when: change, kpis: *watched, change: 0.2, notify: [chat]}  # flow, an alias\r\n"
    "schedules: {}   # none yet\r\n"
    "# the end, without a newline"
)
"""tolok.yaml with CRLF line ends, a quoted key, an anchor and its alias, a tab inside a
double-quoted string, a flow rule, an empty flow section and no newline at its end."""


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    (tmp_path / "orders.csv").write_text("ordered_at,amount\n2026-01-05,100\n", encoding="utf-8")
    (tmp_path / "tolok.yaml").write_bytes(SHARING.encode("utf-8"))
    assert load_project(tmp_path).ok, load_project(tmp_path).problems.errors
    return tmp_path


def main_text(root: Path) -> str:
    return (root / "tolok.yaml").read_bytes().decode("utf-8")


def test_a_changed_alert_rule_changes_its_lines_only_and_keeps_crlf(shared: Path) -> None:
    rule = definition(shared, "alerts", "drop")
    rule["change"] = 0.3
    written = apply(shared, [Change("alerts", "drop", rule)])
    after = main_text(shared)
    assert after.count("\r\n") == SHARING.count("\r\n")  # CRLF kept, no newline added at the end
    assert after.endswith("# the end, without a newline")
    [(old, new)] = changed_lines(SHARING, after)
    assert old.startswith("  drop: {when: change, kpis: *watched, change: 0.2,")
    assert new.startswith("  drop: {when: change, kpis: *watched, change: 0.3,")  # alias kept
    assert new.endswith("# flow, an alias")
    assert list(written.diffs) == ["tolok.yaml"]
    project = load_project(shared).project
    assert project is not None
    assert project.alerts["drop"].change == 0.3
    assert project.alerts["slips"].note == "look\tfirst"


def test_a_new_schedule_fills_an_empty_flow_section_as_a_block(shared: Path) -> None:
    morning = {"do": "digest", "every": "day", "at": "08:00", "to": ["chat"]}
    apply(shared, [Change("schedules", "morning", morning, new=True)])
    after = main_text(shared)
    lines = after.split("\r\n")
    start = lines.index("schedules:      # none yet")  # the comment in its column
    assert lines[start + 1 : start + 6] == [
        "  morning:",
        "    do: digest",
        "    every: day",
        '    at: "08:00"',  # quoted: a YAML 1.1 reader would read 08:00 as minutes
        "    to: [chat]",
    ]
    assert lines[-1] == "# the end, without a newline"
    kept = [line for line in SHARING.split("\r\n") if not line.startswith("schedules:")]
    assert all(line in lines for line in kept)
    project = load_project(shared).project
    assert project is not None
    assert project.schedules["morning"].at == "08:00"


def test_a_changed_rule_keeps_its_quoted_key_comment_and_tab(shared: Path) -> None:
    rule = definition(shared, "alerts", "slips")
    rule["statuses"] = ["off_track"]
    apply(shared, [Change("alerts", "slips", rule)])
    after = main_text(shared).split("\r\n")
    added = [line for line in after if line not in SHARING.split("\r\n")]
    assert added == ["    statuses: [off_track]"]
    assert '  "slips":                 # quoted key' in after
    assert '    note: "look\tfirst"      # a tab inside a string' in after


def test_deleting_rules_and_a_new_rule_without_the_section(shared: Path) -> None:
    apply(shared, [Change("alerts", "drop", None)])
    assert "drop:" not in main_text(shared)
    slips = definition(shared, "alerts", "slips")
    assert slips["kpis"] == ["revenue"]  # what the alias named stays with the anchor's rule
    apply(shared, [Change("alerts", "slips", None)])
    assert "alerts: {}\r\n" in main_text(shared)  # not an empty block YAML cannot read
    assert load_project(shared).ok
    text = main_text(shared).replace("alerts: {}\r\n", "")
    (shared / "tolok.yaml").write_bytes(text.encode("utf-8"))
    stale = {"when": "stale", "after": "2 days", "notify": ["chat"]}
    apply(shared, [Change("alerts", "quiet", stale, new=True)])
    project = load_project(shared).project
    assert project is not None
    assert list(project.alerts) == ["quiet"]
    assert main_text(shared).count("alerts:") == 1


def test_an_invalid_rule_writes_nothing_and_says_where(shared: Path) -> None:
    rule = {"when": "status", "kpis": ["revenue"], "notify": ["chatt"]}
    with pytest.raises(InvalidError) as raised:
        apply(shared, [Change("alerts", "typo", rule, new=True)])
    [found] = raised.value.problems
    assert found.problem.code == "TLK008"
    assert found.path == ("alerts", "typo", "notify", 0)
    assert "did you mean 'chat'" in (found.problem.hint_in(None) or "")
    assert main_text(shared) == SHARING
    with pytest.raises(InvalidError) as clock:
        apply(shared, [Change("schedules", "m", {"do": "refresh", "every": "hour",
                                                  "at": "08:00"}, new=True)])  # fmt: skip
    assert clock.value.problems[0].path[:3] == ("schedules", "m", "at")
    with pytest.raises(TakenError):
        apply(shared, [Change("alerts", "drop", {"when": "anomaly", "notify": ["chat"]},
                              new=True)])  # fmt: skip
    with pytest.raises(MissingError):
        apply(shared, [Change("schedules", "nope", None)])
    assert main_text(shared) == SHARING


def test_a_rule_changed_on_disk_meanwhile_is_a_conflict(shared: Path) -> None:
    seen = fingerprints(load_project(shared))
    theirs = SHARING.replace("change: 0.2", "change: 0.25")
    (shared / "tolok.yaml").write_bytes(theirs.encode("utf-8"))
    mine = {"when": "change", "kpis": ["revenue"], "change": 0.5, "notify": ["chat"]}
    with pytest.raises(ConflictError) as raised:
        apply(shared, [Change("alerts", "drop", mine)], seen)
    assert raised.value.current == theirs
    assert "change: 0.5" in raised.value.proposed
    assert main_text(shared) == theirs


def test_alerts_written_as_a_list_are_refused_with_the_loaders_problem(tmp_path: Path) -> None:
    text = "name: Shop\nwarehouse: duckdb://\nalerts:\n  - {when: anomaly, notify: [a@b.id]}\n"
    (tmp_path / "tolok.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(InvalidError) as raised:
        apply(tmp_path, [Change("alerts", "x", {"when": "anomaly", "notify": ["a@b.id"]},
                                new=True)])  # fmt: skip
    assert raised.value.problems[0].problem.code == "TLK004"
    assert (tmp_path / "tolok.yaml").read_text(encoding="utf-8") == text

"""The sharing part of the spec: the README's example validates as written, and mistakes in
channels, alert rules and schedules are reported where they were made."""

from __future__ import annotations

import re
from pathlib import Path

from tolok.spec.loader import load_project

README = Path(__file__).parents[2] / "README.md"
PROJECT = """\
name: Toko Maju
timezone: Asia/Jakarta
datasets:
  orders:
    source: file:orders.csv
    time: ordered_at
    measures:
      revenue: {agg: sum, expr: amount}
      order_count: {agg: count}
      sessions: {agg: sum, expr: visits}
goals:
  grow-revenue: {title: Grow revenue}
  service: {title: Serve well}
kpis:
  revenue: {formula: revenue, owner: dewi@tokomaju.id, goal: grow-revenue, tags: [core]}
  conversion_rate: {formula: order_count / sessions, unit: percent, goal: grow-revenue}
  tickets: {formula: order_count, goal: service}
"""


def _project(root: Path, sharing: str) -> list[str]:
    (root / "orders.csv").write_text("ordered_at,amount,visits\n2026-01-02,10,3\n")
    (root / "tolok.yaml").write_text(PROJECT + sharing, encoding="utf-8")
    loaded = load_project(root)
    return [f"{p.where.line}:{p.where.col} {p.message}" for p in loaded.problems.errors]


def test_the_readmes_sharing_example_validates(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Alerts, digests and schedules") :]
    example = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert example is not None
    assert _project(tmp_path, example.group(1)) == []


def test_mistakes_in_sharing_are_reported_where_they_are(tmp_path: Path) -> None:
    problems = _project(
        tmp_path,
        """\
channels:
  chat: {webhook: "ftp://x"}
  mail: {email: [dewi@tokomaju.id]}
alerts:
  a: {when: status, kpis: [revenu], notify: [chatt]}
  b: {when: threshold, kpis: [revenue], notify: [owner]}
  c: {when: change, kpis: [revenue], change: 0.1, above: 3, notify: [mail]}
schedules:
  d: {do: digest, every: week, on: 3, to: [mail]}
  e: {do: refresh, every: day, to: [mail]}
""",
    )
    line = {p.split(" ", 1)[1]: int(p.split(":")[0]) for p in problems}
    base = PROJECT.count("\n")
    assert line["'ftp://x' is not a web address; write it as https://host/path"] == base + 2
    assert line["channel 'mail' sends e-mail but the project has no e-mail server"] == base + 3
    assert line["unknown KPI 'revenu'"] == base + 5
    assert line["unknown channel 'chatt'"] == base + 5
    assert line["`when: threshold` needs `above: …` or `below: …`"] == base + 6
    assert line["`above` does not apply to `when: change`"] == base + 7
    assert line["every week runs on a weekday: monday … sunday"] == base + 9
    assert line["`to` does not apply to `do: refresh`"] == base + 10

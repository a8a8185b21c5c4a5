"""Every catalog template loads, is added to a project by `tolok catalog add` and computes."""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tolok.catalog.templates import Table, Template, catalog
from tolok.cli import app
from tolok.engine.compute import compute
from tolok.engine.series import Request
from tolok.engine.warehouse import Warehouse
from tolok.spec import load_project
from tolok.spec.models import ColumnType, Function

runner = CliRunner()
START = dt.datetime(2026, 1, 1, 8, 0)
ARTICLE = {
    "marketing": {
        "roi",
        "customer_lifetime_value",
        "customer_acquisition_cost",
        "conversion_rate",
        "website_traffic",
        "social_media_engagement",
        "cta_conversion",
        "blog_posts_per_month",
        "click_through_rate",
    },
    "sales": {
        "monthly_sales_growth",
        "calls_and_emails",
        "opportunity_to_deal_ratio",
        "average_purchase_value",
    },
    "service": {"tickets_resolved", "csat", "first_response_time", "nps"},
    "website": {"website_traffic", "traffic_sources", "pages_per_session", "transactions"},
}
OTHER = {"mrr", "churn_rate", "gross_margin", "inventory_shrinkage", "time_to_resolution"}
OTHER |= {"revenue_per_employee"}


def test_the_catalog_has_forty_templates_in_both_languages() -> None:
    templates = catalog()
    assert len(templates) >= 40
    for name, template in templates.items():
        for text in (template.title, template.description, template.why):
            assert text.en.strip(), name
            assert text.id.strip(), name
            assert text.en != text.id, f"{name}: the Indonesian text is the English one"
    functions = {t.function for t in templates.values()}
    assert {Function.finance, Function.hr, Function.operations} <= functions


def test_every_article_example_and_common_kpi_is_there() -> None:
    templates = catalog()
    for names in ARTICLE.values():
        for name in names:
            assert name in templates, name
            assert templates[name].article, f"{name} is an article example"
    assert OTHER - set(templates) == set()
    assert {t.function.value for n, t in templates.items() if n in ARTICLE["service"]} == {
        "service"
    }


def _value(
    column: str, kind: ColumnType, table: Table, rng: random.Random, when: dt.datetime
) -> str:
    spec = table.columns.get(column)
    if spec is not None and spec.values:
        return rng.choice(spec.values)
    match kind:
        case ColumnType.string:
            return rng.choice(["a", "b", "c", "d"])
        case ColumnType.integer:
            return str(rng.randint(0, 12))
        case ColumnType.number:
            return f"{rng.uniform(1, 500):.2f}"
        case ColumnType.boolean:
            return rng.choice(["true", "false"])
        case ColumnType.date:
            return (when + dt.timedelta(days=rng.randint(0, 20))).date().isoformat()
        case ColumnType.timestamp:
            return (when + dt.timedelta(minutes=rng.randint(1, 3000))).isoformat(sep=" ")
    raise AssertionError(kind)


def _project(folder: Path, name: str, template: Template) -> None:
    rng = random.Random(name)
    lines = ["name: Catalog check", "timezone: UTC", "warehouse: duckdb://", "datasets:"]
    for role, table in template.tables.items():
        header = [table.time, *table.columns]
        rows = []
        for i in range(240):
            when = START + dt.timedelta(hours=9 * i + rng.randint(0, 5))
            row = [when.isoformat(sep=" ")]
            row += [_value(c, s.type, table, rng, when) for c, s in table.columns.items()]
            rows.append(row)
        (folder / "data").mkdir(exist_ok=True)
        with (folder / "data" / f"{role}_rows.csv").open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            writer.writerows(rows)
        types = ", ".join(f"{c}: {s.type.value}" for c, s in table.columns.items())
        lines += [
            f"  {role}_rows:",
            f"    source: file:data/{role}_rows.csv",
            f"    time: {table.time}",
            f"    dimensions: [{', '.join(table.dimensions)}]",
            f"    columns: {{{table.time}: timestamp, {types}}}",
        ]
    (folder / "tolok.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("name", sorted(catalog()))
def test_each_template_is_added_and_computes(name: str, tmp_path: Path) -> None:
    template = catalog()[name]
    _project(tmp_path, name, template)
    args = ["catalog", "add", name, "-p", str(tmp_path), "--owner", "ana@example.com"]
    for role in template.tables:
        args += ["--dataset", f"{role}={role}_rows"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    loaded = load_project(tmp_path)
    assert loaded.ok, [p.headline(tmp_path) for p in loaded.problems.errors]
    assert loaded.project is not None
    kpi = loaded.project.kpis[name]
    assert kpi.unit is template.unit
    series = compute(loaded, Warehouse(loaded), Request((name,), kpi.grain, ()))[name]
    values = [p.value for p in series.points if p.value is not None]
    assert values, f"{name} computed no value"
    assert all(math.isfinite(v) for v in values)
    if template.breakdowns:
        by = tuple(kpi.breakdowns[0])
        split = compute(loaded, Warehouse(loaded), Request((name,), kpi.grain, by))[name]
        assert {p.slice for p in split.points} != {()}


def test_the_catalog_spells_out_its_acronyms() -> None:
    """What `tolok lint` asks of a team's KPIs, the catalog does itself (rule TLK112)."""
    from tolok.lint.rules import undefined_acronyms

    bad = []
    for name, template in catalog().items():
        for lang in ("en", "id"):
            text = f"{template.title(lang)}\n{template.description(lang)}"
            bad += [f"{name} ({lang}): {a}" for a in undefined_acronyms(text)]
    assert bad == []

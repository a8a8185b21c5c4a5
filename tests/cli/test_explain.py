"""`tolok explain` on a shop small enough to explain by hand (tests/fixtures/projects/
explain_shop): the compared period (the one before or a year before), ratios in percentage
points with mix and rate and a sentence on which drove it, rounded parts that add up, and
the split by a formula's inputs when they share no dimension. Expected values are worked
out here from the CSV files, never by the code under test."""

from __future__ import annotations

import csv
import math
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import FIXTURES
from tolok.cli import app

runner = CliRunner()
SHOP = FIXTURES / "explain_shop"
Row = dict[str, str]


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy (the DuckDB file stays out of the repository), on 15 November 2026: the last
    closed month is October."""
    monkeypatch.setenv("TOLOK_TODAY", "2026-11-15")
    target = tmp_path / "shop"
    shutil.copytree(SHOP, target)
    return target


def rows(name: str) -> list[Row]:
    with (SHOP / "data" / f"{name}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def total(name: str, month: str, value: Callable[[Row], float], **match: str) -> float:
    """The sum of `value` over the rows of that month matching every `column=value`."""
    return sum(
        value(row)
        for row in rows(name)
        if row["day"].startswith(month) and all(row[k] == v for k, v in match.items())
    )


def paid(row: Row) -> float:
    return 1.0 if row["status"] == "paid" else 0.0


def revenue(row: Row) -> float:
    return float(row["amount"]) * paid(row)


def visitors(row: Row) -> float:
    return float(row["visitors"])


def number(text: str) -> float:
    """A change as shown ("+$51.70", "-0.6 pp") as a number."""
    return float(text.replace("$", "").replace("pp", "").replace(",", "").strip())


def explain(shop: Path, *args: str) -> list[list[str]]:
    result = runner.invoke(app, ["explain", *args, "-p", str(shop)])
    assert result.exit_code == 0, result.output
    return [line.split("\t") for line in result.stdout.splitlines()]


def test_the_default_is_the_last_closed_month_against_the_one_before(shop: Path) -> None:
    lines = explain(shop, "revenue")
    assert lines[0] == ["Revenue: change 2026-09 -> 2026-10, by region"]
    moved = {line[0]: line[3] for line in lines[2:-1]}
    for region in ("North", "South"):
        change = total("orders", "2026-10", revenue, region=region) - total(
            "orders", "2026-09", revenue, region=region
        )
        # Under $100, cents, as the values themselves are written.
        assert moved[region] == f"{change:+.2f}".replace("+", "+$").replace("-", "-$")
    assert lines[-1] == ["total", "$250", "$320", "+$70.00"]


def test_last_year_compares_with_the_same_month_a_year_before(shop: Path) -> None:
    lines = explain(shop, "revenue", "--period", "2026-10", "--compare", "last_year")
    assert lines[0] == ["Revenue: change 2025-10 -> 2026-10, by region"]
    north = total("orders", "2026-10", revenue, region="North") - total(
        "orders", "2025-10", revenue, region="North"
    )
    south = total("orders", "2026-10", revenue, region="South") - total(
        "orders", "2025-10", revenue, region="South"
    )
    assert {line[0]: number(line[3]) for line in lines[2:-1]} == {"North": north, "South": south}
    assert number(lines[-1][3]) == north + south
    wrong = runner.invoke(app, ["explain", "revenue", "--compare", "year", "-p", str(shop)])
    assert wrong.exit_code == 2


def test_a_ratio_is_explained_in_points_with_mix_rate_and_what_drove_it(shop: Path) -> None:
    lines = explain(shop, "paid_share", "--by", "region")
    assert lines[1] == ["region", "before", "after", "contribution", "mix", "rate"]

    def share(month: str, region: str | None = None) -> tuple[float, float]:
        match = {"region": region} if region else {}
        return (
            total("orders", month, paid, **match),
            total("orders", month, lambda _: 1.0, **match),
        )

    (n0, d0), (n1, d1) = share("2026-09"), share("2026-10")
    got = {line[0]: line for line in lines[2:-2]}  # then the total, then the sentence
    rates = {}
    for region in ("North", "South"):
        (a0, b0), (a1, b1) = share("2026-09", region), share("2026-10", region)
        rate = (a1 / b1 - a0 / b0) * (b0 / d0 + b1 / d1) / 2
        part = a1 / d1 - a0 / d0
        rates[region] = rate
        assert number(got[region][3]) == pytest.approx(part * 100, abs=0.05)
        assert number(got[region][5]) == pytest.approx(rate * 100, abs=0.05)
        assert number(got[region][4]) + number(got[region][5]) == pytest.approx(
            number(got[region][3])
        )
    assert got["South"][1:3] == ["50.0%", "100.0%"]
    change = n1 / d1 - n0 / d0  # 75% -> 80%: +5.0 pp
    assert lines[-2] == ["total", "75.0%", "80.0%", f"+{change * 100:.1f} pp"]
    rate_total = sum(rates.values())  # +4.17 pp, the mix the rest: +0.83 pp
    assert abs(rate_total) > abs(change - rate_total)
    assert lines[-1] == [
        "Mostly the rate: rate +4.2 pp, mix +0.8 pp, together +5.0 pp; "
        "the rate of South rose from 50.0% to 100.0%."
    ]


def test_rounded_parts_add_up_to_the_total_shown(shop: Path) -> None:
    # Order value $83.33 -> $80: North's part -16.667 and South's +13.333 of -3.333
    # would round to -16.67 and +13.33, which make -3.34.
    lines = explain(shop, "order_value", "--by", "region")
    parts = {line[0]: number(line[3]) for line in lines[2:-2]}
    total_shown = number(lines[-2][3])
    north = 200 / 4 - 200 / 3  # its revenue over all paid orders, after minus before
    south = 120 / 4 - 50 / 3
    assert total_shown == round(north + south, 2) == -3.33
    assert parts["North"] == pytest.approx(north, abs=0.01)
    assert parts["South"] == pytest.approx(south, abs=0.01)
    assert round(sum(parts.values()), 2) == total_shown
    assert lines[-1][0].startswith("Mostly the mix: ")


def test_good_and_bad_by_direction_keep_their_sign_without_colour(shop: Path) -> None:
    # Unpaid orders should go down: South's -1 is good, North's +1 bad. Not a terminal,
    # so no colour codes, but the sign says which way each moved.
    lines = explain(shop, "unpaid", "--by", "region")
    assert {line[0]: line[3] for line in lines[2:-1]} == {"South": "-1", "North": "+1"}
    assert "\x1b[" not in "".join("".join(line) for line in lines)


def test_conversion_with_no_shared_dimension_is_explained_by_its_inputs(shop: Path) -> None:
    # Paid orders (by region) over visitors (by device): no dimension to split by, so its
    # inputs explain it. 3 / 100 -> 4 / 120; a logarithmic split of the change.
    lines = explain(shop, "conversion")
    assert lines[0] == ["Conversion: change 2026-09 -> 2026-10, by its inputs"]
    assert lines[1] == ["input", "before", "after", "part"]
    orders0, orders1 = total("orders", "2026-09", paid), total("orders", "2026-10", paid)
    visits0, visits1 = total("visits", "2026-09", visitors), total("visits", "2026-10", visitors)
    before, after = orders0 / visits0, orders1 / visits1
    weight = (after - before) / math.log(after / before)
    orders_part = weight * math.log(orders1 / orders0) * 100  # +0.91 pp
    visits_part = -weight * math.log(visits1 / visits0) * 100  # -0.58 pp
    got = {line[0]: line for line in lines[2:-1]}
    assert got["paid_orders"][1:] == ["3", "4", f"{orders_part:+.1f} pp"]
    assert got["visitors"][1:] == ["100", "120", f"{visits_part:+.1f} pp"]
    assert orders_part + visits_part == pytest.approx((after - before) * 100)
    assert lines[-1] == ["total", "3.0%", "3.3%", "+0.3 pp"]
    assert round((after - before) * 100, 1) == 0.3


def test_revenue_as_visitors_times_conversion_times_order_value(shop: Path) -> None:
    lines = explain(shop, "sales", "--inputs")
    got = {line[0]: number(line[3]) for line in lines[2:-1]}
    v0, v1 = total("visits", "2026-09", visitors), total("visits", "2026-10", visitors)
    o0, o1 = total("orders", "2026-09", paid), total("orders", "2026-10", paid)
    r0, r1 = total("orders", "2026-09", revenue), total("orders", "2026-10", revenue)
    weight = (r1 - r0) / math.log(r1 / r0)  # revenue is their product: 250 -> 320
    expected = {
        "visitors": weight * math.log(v1 / v0),
        "conversion": weight * math.log((o1 / v1) / (o0 / v0)),
        "order_value": weight * math.log((r1 / o1) / (r0 / o0)),
    }
    assert got == {k: pytest.approx(v, abs=0.005) for k, v in expected.items()}
    assert round(sum(got.values()), 2) == number(lines[-1][3]) == r1 - r0
    assert lines[-1][1:3] == ["$250", "$320"]


def test_a_kpi_of_one_input_needs_a_dimension_and_nps_like_ones_say_what_works(
    shop: Path,
) -> None:
    one = runner.invoke(app, ["explain", "revenue", "--inputs", "-p", str(shop)])
    assert one.exit_code == 2
    assert "is one input" in " ".join(one.output.replace("│", " ").split())
    # Conversion's datasets share no region: said so, with the place in the YAML.
    apart = runner.invoke(app, ["explain", "conversion", "--by", "region", "-p", str(shop)])
    assert apart.exit_code == 1
    assert "cannot break down by 'region'" in apart.stderr
    nps_like = runner.invoke(app, ["explain", "sales", "--by", "region", "-p", str(shop)])
    assert nps_like.exit_code in (1, 2)

"""Contributions to a change: they sum to the total change; mix and rate for ratios."""

from __future__ import annotations

import pytest

from tolok.track.explain import explain_ratio, explain_sum


def test_sum_contributions_are_each_slices_change() -> None:
    before = {("Bali",): 100.0, ("Jawa",): 300.0, ("Papua",): 20.0}
    after = {("Bali",): 150.0, ("Jawa",): 240.0, ("Sumatera",): 10.0}
    got = explain_sum(before, after)
    assert [(c.slice, c.total) for c in got] == [
        (("Jawa",), -60.0),
        (("Bali",), 50.0),
        (("Papua",), -20.0),
        (("Sumatera",), 10.0),
    ]
    assert sum(c.total for c in got) == pytest.approx(sum(after.values()) - sum(before.values()))


def test_ratio_change_splits_into_mix_and_rate_and_sums_exactly() -> None:
    # Conversion = orders / sessions. Web keeps its rate (2%) but gains traffic share;
    # the app's rate rises from 4% to 5% with the same traffic.
    orders = ({("web",): 20.0, ("app",): 40.0}, {("web",): 60.0, ("app",): 50.0})
    sessions = ({("web",): 1000.0, ("app",): 1000.0}, {("web",): 3000.0, ("app",): 1000.0})
    got = {c.slice: c for c in explain_ratio(orders, sessions)}
    before, after = 60 / 2000, 110 / 4000
    assert sum(c.total for c in got.values()) == pytest.approx(after - before)
    web, app = got[("web",)], got[("app",)]
    assert web.rate == pytest.approx(0.0)  # 2% both times
    assert (web.before, web.after) == (pytest.approx(0.02), pytest.approx(0.02))
    assert web.mix == pytest.approx(60 / 4000 - 20 / 2000)
    # App: rate +1 point at an average share of (0.5 + 0.25) / 2.
    assert app.rate == pytest.approx(0.01 * 0.375)
    assert app.total == pytest.approx(50 / 4000 - 40 / 2000)


def test_a_slice_with_no_denominator_in_one_period() -> None:
    orders = ({("web",): 10.0}, {("web",): 10.0, ("shop",): 5.0})
    sessions = ({("web",): 100.0}, {("web",): 100.0})
    got = {c.slice: c for c in explain_ratio(orders, sessions)}
    assert sum(c.total for c in got.values()) == pytest.approx(15 / 100 - 10 / 100)
    assert got[("shop",)].rate == 0.0
    assert got[("shop",)].mix == pytest.approx(0.05)

"""The spec models on their own: defaults, target forms, periods and cross-field rules."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from tolok.spec.models import (
    KPI,
    ConstantTarget,
    Dataset,
    Direction,
    Grain,
    GrowthTarget,
    Measure,
    RampTarget,
    Settings,
    Status,
    TargetPoint,
    Unit,
    Vs,
)


def test_kpi_defaults() -> None:
    kpi = KPI(formula="revenue")
    assert (kpi.unit, kpi.direction, kpi.grain, kpi.status) == (
        Unit.number,
        Direction.up,
        Grain.month,
        Status.active,
    )
    assert (kpi.thresholds.at_risk, kpi.thresholds.off_track) == (0.95, 0.85)


def test_models_are_frozen_and_forbid_unknown_keys() -> None:
    kpi = KPI(formula="revenue")
    with pytest.raises(ValidationError):
        kpi.formula = "spend"  # type: ignore[misc]
    with pytest.raises(ValidationError) as caught:
        KPI.model_validate({"formula": "x", "formular": "x"})
    assert caught.value.errors()[0]["type"] == "extra_forbidden"


def test_the_three_target_forms_and_a_list_of_them() -> None:
    constant = KPI.model_validate({"formula": "x", "target": {"value": 0.03, "from": "2026-01"}})
    assert constant.target == [ConstantTarget(value=0.03, **{"from": "2026-01"})]
    listed = KPI.model_validate(
        {
            "formula": "x",
            "target": [
                {"period": "2026-01", "value": 10},
                {"period": dt.date(2026, 2, 1), "value": 12, "slice": {"region": "Bali"}},
            ],
        }
    )
    assert listed.target == [
        TargetPoint(period="2026-01", value=10),
        TargetPoint(period="2026-02-01", value=12, slice={"region": "Bali"}),
    ]
    rule = KPI.model_validate({"formula": "x", "target": {"growth": 0.2, "vs": "previous"}})
    assert rule.target == [GrowthTarget(growth=0.2, vs=Vs.previous)]
    ramp = KPI.model_validate(
        {"formula": "x", "target": {"ramp": {"to": 50, "by": 2026}, "from": "2026-Q1"}}
    )
    assert ramp.target is not None
    assert isinstance(ramp.target[0], RampTarget)
    assert ramp.target[0].ramp.by == "2026"


@pytest.mark.parametrize(
    "period", ["2026", "2026-Q4", "2026-01", "2026-W53", "2026-12-31", "FY2026", "FY2026-Q2"]
)
def test_period_forms(period: str) -> None:
    assert TargetPoint(period=period, value=1).period == period


@pytest.mark.parametrize("period", ["2026-13", "26-01", "2026-Q5", "2026-W54", "FY26", "Jan 2026"])
def test_bad_periods(period: str) -> None:
    with pytest.raises(ValidationError, match="is not a period"):
        TargetPoint(period=period, value=1)


def test_cross_field_rules() -> None:
    with pytest.raises(ValidationError, match="needs `tolerance`"):
        KPI(formula="x", direction=Direction.band)
    assert KPI(formula="x", direction=Direction.band, tolerance=0.1).tolerance == 0.1
    with pytest.raises(ValidationError, match="only applies to direction 'band'"):
        KPI(formula="x", tolerance=0.1)
    with pytest.raises(ValidationError, match="off_track must not be above at_risk"):
        KPI.model_validate({"formula": "x", "thresholds": {"at_risk": 0.8, "off_track": 0.9}})
    with pytest.raises(ValidationError, match="needs `p`"):
        Measure.model_validate({"agg": "percentile"})
    assert Measure.model_validate({"agg": "percentile", "p": 0.9}).p == 0.9
    with pytest.raises(ValidationError, match="needs `time`"):
        Dataset.model_validate({"source": "shop.orders", "measures": {"n": {"agg": "count"}}})
    assert Dataset.model_validate({"source": "shop.customers", "key": ["id"]}).is_lookup
    assert Dataset.model_validate({"source": "shop.tickets", "time": "none"}).snapshot
    assert Dataset.model_validate({"source": "manual"}).is_manual


def test_numbers_are_formulas_too() -> None:
    assert KPI.model_validate({"formula": 100}).formula == "100"


def test_settings() -> None:
    settings = Settings.model_validate(
        {"name": "Toko", "currency": "IDR", "timezone": "Asia/Jakarta"}
    )
    assert settings.warehouse == "duckdb:///warehouse.duckdb"
    assert settings.store == "sqlite:///tolok.db"
    with pytest.raises(ValidationError, match="not a time zone"):
        Settings.model_validate({"name": "T", "timezone": "Asia/Jakart"})
    with pytest.raises(ValidationError):
        Settings.model_validate({"name": "T", "currency": "rupiah"})


def test_a_time_zone_is_one_of_pythons() -> None:
    """The zones tzdata lists answer first (no walk over the system's database): each is
    one `available_timezones` gives; those it does not list are still asked of it."""
    from zoneinfo import available_timezones

    from tolok.spec import models

    assert models._listed_zones() <= available_timezones()
    zone = min(available_timezones() - models._listed_zones(), default="Asia/Jakarta")
    assert Settings.model_validate({"name": "T", "timezone": zone}).timezone == zone
    with pytest.raises(ValidationError, match="not a time zone"):
        Settings.model_validate({"name": "T", "timezone": "posixrules"})


def test_dataset_file_pattern() -> None:
    dataset = Dataset.model_validate({"source": "file: data/*.csv", "time": "t"})
    assert dataset.file_pattern == "data/*.csv"
    assert Dataset.model_validate({"source": "shop.orders", "time": "t"}).file_pattern is None

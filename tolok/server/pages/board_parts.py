"""The parts of a board card that read a verdict in pictures and words: its bar, the line of
the period under way, its sparkline. Pure: values in, texts and shapes out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

from tolok.i18n import Formats, status_words
from tolok.spec.models import KPI, Direction

if TYPE_CHECKING:
    from collections.abc import Callable

    from tolok.answers.outlook import Outlook


class OpenPeriod(BaseModel):
    period: str
    elapsed: float  # share of the period passed
    elapsed_text: str
    so_far: float | None
    so_far_text: str
    so_far_short: str = ""  # money in compact form: Rp 12,3 jt
    projected_text: str
    projected_short: str = ""
    target_text: str = ""  # the whole period's target, in the digits of the two above
    heading: str
    heading_text: str
    forecast: float | None
    forecast_text: str
    forecast_range: str
    heading_line: str = ""  # where it is heading: "Heading off track: 21 by the end of Dec 2026…"
    forecast_heading: str | None = None  # where the forecast's end stands against the target
    differ_text: str = ""  # why pace and forecast may say different things, when they do


class Bar(BaseModel):
    """A card's bar, as its verdict reads: up to the target, or for a KPI whose good way is
    down, the share of its limit used, with the limit marked and what is past it apart. A
    cost at 110% of its ceiling fills the bar past the mark, never 90% of it."""

    fill: float  # the bar's width filled up to the target or the limit, 0 to 1
    over: float = 0.0  # its width past the limit
    limit: float | None = None  # where the limit's mark stands (down is good)
    now: int  # the meter's value in percent: of the target, or of the limit used
    top: int = 100  # the meter's highest
    text: str  # the meter's reading in words
    over_text: str = ""  # "10% over the limit"


def _over_text(share: str, tolerated: bool, _: Callable[..., str]) -> str:
    if tolerated:
        return _("{share} over the limit, within its tolerance", share=share)
    return _("{share} over the limit", share=share)


def bar(
    kpi: KPI,
    value: float | None,
    target: float | None,
    share: float | None,
    fmt: Formats,
    _: Callable[..., str],
    tolerated: bool = False,
) -> Bar | None:
    """The bar of a card whose last judged period has a target (`share`: its attainment).
    `tolerated`: the verdict is on track all the same (past the limit, within the KPI's
    `at_risk` tolerance), which the text says so that the bar never contradicts the badge."""
    if share is None or value is None or target is None:
        return None
    if kpi.direction is not Direction.down or target <= 0:
        fill = max(0.0, min(1.0, share))
        return Bar(
            fill=fill, now=round(fill * 100), text=_("{share} of target", share=fmt.share(share))
        )
    used = max(0.0, value / target)
    width = min(max(1.0, used), 2.0)  # past twice the limit, the bar is full
    over = share < 1  # as the verdict reads it: past the limit
    return Bar(
        fill=min(used, 1.0) / width,
        over=(min(used, width) - 1) / width if over else 0.0,
        limit=1 / width,
        now=round(used * 100),
        top=max(100, round(used * 100)),
        text=_("{share} of the limit", share=fmt.share(used)),
        over_text=_over_text(fmt.share(used - 1), tolerated, _) if over else "",
    )


def spark_points(values: list[float | None]) -> str:
    """The values as SVG polyline points in a 100 x 24 box (gaps left out)."""
    present = [v for v in values if v is not None]
    if len(present) < 2:
        return ""
    low, high = min(present), max(present)
    span = (high - low) or 1.0
    step = 100 / (len(values) - 1)
    points = [
        f"{i * step:.1f},{22 - (v - low) / span * 20:.1f}"
        for i, v in enumerate(values)
        if v is not None
    ]
    return " ".join(points)


def open_period(
    kpi: KPI, ahead: Outlook | None, fmt: Formats, _: Callable[..., str]
) -> OpenPeriod | None:
    if ahead is None or (ahead.value is None and ahead.forecast is None):
        return None
    end = ahead.forecast
    heading = ahead.pace.heading.value
    figures = [ahead.value, ahead.pace.projected, ahead.target]
    so_far, projected, target = fmt.values(figures, kpi.unit)
    so_far_short, projected_short, _target = fmt.compact(figures, kpi.unit)
    period = fmt.period(ahead.period, kpi.grain)
    return OpenPeriod(
        period=period,
        elapsed=ahead.pace.elapsed,
        elapsed_text=fmt.share(ahead.pace.elapsed),
        so_far=ahead.value,
        so_far_text=so_far,
        so_far_short=so_far_short,
        projected_text=projected,
        projected_short=projected_short,
        target_text=target,
        heading=heading,
        heading_text=(
            status_words(_)[heading] if ahead.judged else _("Judged once the period is over")
        ),
        forecast=end.mean if end else None,
        forecast_text=fmt.value(end.mean if end else None, kpi.unit),
        forecast_range=(
            _(
                "{low} to {high}",
                low=fmt.value(end.low, kpi.unit),
                high=fmt.value(end.high, kpi.unit),
            )
            if end
            else ""
        ),
        heading_line=_heading_line(ahead, projected_short, period, _),
        forecast_heading=ahead.forecast_heading.value if ahead.forecast_heading else None,
        differ_text=_differ_text(ahead, _),
    )


_JUDGED = ("on_track", "at_risk", "off_track")


def _differ_text(ahead: Outlook, _: Callable[..., str]) -> str:
    """One sentence when the pace and the forecast point to different statuses (both read
    from the outlook, never judged here): what each of them is."""
    pace = ahead.pace.heading.value
    model = ahead.forecast_heading.value if ahead.forecast_heading else None
    if not ahead.judged or pace not in _JUDGED or model not in _JUDGED or pace == model:
        return ""
    return _(
        "They differ because \u201cat this pace\u201d carries the period so far on at the same "
        "rate, while the forecast is a model of the periods before it."
    )


def _heading_line(ahead: Outlook, projected: str, period: str, _: Callable[..., str]) -> str:
    """Where the open period is heading, in words: "Heading off track: 21 by the end of Dec
    2026 at this pace" (its verdict's heading and projected end)."""
    if not ahead.judged:
        return _("Judged once the period is over")
    heading = {
        "on_track": _("Heading on track"),
        "at_risk": _("Heading at risk"),
        "off_track": _("Heading off track"),
    }.get(ahead.pace.heading.value)
    if ahead.pace.projected is None:
        return heading or ""
    if heading is None:
        return _("{value} by the end of {period} at this pace", value=projected, period=period)
    return _(
        "{heading}: {value} by the end of {period} at this pace",
        heading=heading,
        value=projected,
        period=period,
    )

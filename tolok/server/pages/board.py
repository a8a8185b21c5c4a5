"""The board: one card per active KPI — its last closed period's value, the change from the
period before, a sparkline, progress to target, status, where the open period is heading and
the owner — what needs attention first (`board_groups`), grouped and filtered as asked.

Money shows in compact form on a card (`Rp 555,8 jt`), its full figure beside it (`*_text`,
a title on the page)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from tolok import clock
from tolok.i18n import Formats, status_words
from tolok.server.board import BoardCache
from tolok.server.pages.board_groups import (
    attention_of,
    fallback_title,
    group_key,
    ordered,
    titled_groups,
)
from tolok.server.pages.board_parts import Bar, OpenPeriod, bar, open_period, spark_points
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import KPI, Direction, Project, Unit

if TYPE_CHECKING:
    from collections.abc import Callable

    from tolok.answers.outlook import Outlook
    from tolok.answers.verdicts import KpiState

GROUPS = ("attention", "goal", "level", "function", "indicator", "owner", "status")
GROUP_COOKIE = "tolok_board_group"  # the grouping last asked for, kept like the language
STATUSES = ("off_track", "at_risk", "on_track", "no_target", "no_data")
SPARK = 12  # closed periods in a card's sparkline


class Card(BaseModel):
    name: str
    title: str
    description: str | None
    unit: str
    direction: str
    grain: str
    owner: str | None
    goal: str | None
    goal_title: str | None
    level: str | None
    function: str | None
    indicator: str | None
    tags: list[str]
    actions: list[str]
    period: str | None
    period_start: dt.date | None
    value: float | None
    value_text: str
    value_short: str = ""  # money in compact form
    previous: float | None
    change: float | None  # relative, or a difference in points for a percentage
    change_text: str
    change_good: bool | None  # the change goes the KPI's good way (None: no way is better)
    target: float | None
    target_text: str
    target_short: str = ""
    attainment: float | None
    attainment_text: str
    progress: float  # attainment from 0 to 1
    bar: Bar | None = None
    status: str
    status_text: str
    attention: str | None = None  # why it needs attention: `board_groups.ATTENTION`
    spark: list[float | None]
    spark_points: str  # an SVG polyline in a 100 x 24 box
    open: OpenPeriod | None
    quiet_since: str | None = None  # "No new data since 31 Dec 2014": the data stopped
    anomaly: float | None = None  # the period's anomaly score when it is unusual


class Group(BaseModel):
    key: str
    title: str
    cards: list[Card]


class Filters(BaseModel):
    group: str = "attention"
    owner: str | None = None
    status: str | None = None
    tag: str | None = None
    q: str | None = None


class BoardPage(BaseModel):
    project: str
    filters: Filters
    groups: list[Group]
    total: int
    shown: int
    owners: list[str]
    tags: list[str]
    counts: dict[str, int]  # cards per status, before filtering
    attention: list[str] = []  # the shown KPIs that need attention, the most pressing first
    refreshed_at: dt.datetime | None  # in UTC: the newest refresh that finished its work
    refreshed_text: str = ""  # in the project's time zone, named: 7 Dec 2026 14:05 WIB
    failed_at: dt.datetime | None = None  # in UTC: a refresh that failed after that one
    failed_text: str = ""
    notice: Literal["empty", "failed"] | None = None  # no figures yet, or the last update failed


def chosen_group(asked: str | None, remembered: str | None) -> str:
    """The grouping: the one asked for, else the one last asked for (a cookie), else what
    needs attention first."""
    if asked:
        return asked
    return remembered if remembered in GROUPS else "attention"


def today_of(project: Project) -> dt.date:

    return clock.today(project)


def states(loaded: LoadedProject, board: BoardCache) -> dict[str, KpiState]:
    from tolok.answers.verdicts import kpi_states

    assert loaded.project is not None
    today = today_of(loaded.project)
    return board.get("states", loaded, today, lambda: kpi_states(loaded, today))


def outlooks(loaded: LoadedProject, board: BoardCache) -> dict[str, Outlook | None]:
    """Each KPI's open period (a forecast each: kept until the store or the day changes)."""
    from tolok.answers.outlook import outlook

    assert loaded.project is not None
    today = today_of(loaded.project)

    def build() -> dict[str, Outlook | None]:
        found = states(loaded, board)
        return {n: outlook(loaded, n, s) for n, s in found.items()}

    return board.get("outlooks", loaded, today, build)


def cards(
    loaded: LoadedProject, board: BoardCache, fmt: Formats, _: Callable[..., str]
) -> list[Card]:
    """Every active KPI's card, in the project's order; kept per language (formatting fifty
    cards' numbers costs more than the rest of a page)."""
    project = loaded.project
    assert project is not None

    def build() -> list[Card]:
        from tolok.notify.freshness import quiet_kpis

        found, ahead = states(loaded, board), outlooks(loaded, board)
        quiet = quiet_kpis(board.engine, project, today_of(project))
        words = {n: _("No new data since {day}", day=fmt.day(d)) for n, d in quiet.items()}
        return [
            card(project, name, kpi, found[name], ahead.get(name), fmt, _).model_copy(
                update={"quiet_since": words.get(name)}
            )
            for name, kpi in project.kpis.items()
            if name in found
        ]

    built: list[Card] = board.get(f"cards:{fmt.lang}", loaded, today_of(project), build)
    return built


def card(
    project: Project,
    name: str,
    kpi: KPI,
    state: KpiState,
    ahead: Outlook | None,
    fmt: Formats,
    _: Callable[..., str],
) -> Card:
    latest = state.latest
    judged = [v for v in state.verdicts if v.judged]  # whole, final periods, as every surface
    previous = judged[-2].value if len(judged) >= 2 else None
    value = latest.value if latest else None
    change, change_text = _change(kpi, value, previous, fmt)
    # Value and target in digits that keep them apart when the status hangs on them.
    value_text, target_text = fmt.values([value, state.target], kpi.unit)
    value_short, target_short = fmt.compact([value, state.target], kpi.unit)
    spark = [v.value for v in judged[-SPARK:]]
    unusual = state.verdict.anomaly if state.verdict else None
    share = state.attainment
    goal = project.goals.get(kpi.goal or "")
    return Card(
        name=name,
        title=kpi.title or name,
        description=kpi.description,
        unit=kpi.unit.value,
        direction=kpi.direction.value,
        grain=kpi.grain.value,
        owner=kpi.owner,
        goal=kpi.goal,
        goal_title=goal.title if goal else None,
        level=_enum(kpi.level),
        function=_enum(kpi.function),
        indicator=_enum(kpi.indicator),
        tags=list(kpi.tags),
        actions=list(kpi.actions),
        period=fmt.period(latest.period, kpi.grain) if latest else None,
        period_start=latest.period if latest else None,
        value=value,
        value_text=value_text,
        value_short=value_short,
        previous=previous,
        change=change,
        change_text=change_text,
        change_good=_good(kpi.direction, change),
        target=state.target,
        target_text=target_text,
        target_short=target_short,
        attainment=share,
        attainment_text=fmt.share(share),
        progress=max(0.0, min(1.0, share)) if share is not None else 0.0,
        bar=bar(kpi, value, state.target, share, fmt, _, state.standing.value == "on_track"),
        status=state.standing.value,
        status_text=status_words(_)[state.standing.value],
        attention=attention_of(state),
        spark=spark,
        spark_points=spark_points(spark),
        open=open_period(kpi, ahead, fmt, _),
        anomaly=round(unusual.score, 2) if unusual else None,
    )


def _enum(value: object) -> str | None:
    return None if value is None else str(getattr(value, "value", value))


def _change(
    kpi: KPI, value: float | None, previous: float | None, fmt: Formats
) -> tuple[float | None, str]:
    if value is None or previous is None:
        return None, fmt.change(None)
    if kpi.unit is Unit.percent:
        decimals = fmt.value_decimals([value, previous], kpi.unit)
        return value - previous, fmt.points(value - previous, decimals)
    if previous == 0:
        return None, fmt.change(None)
    change = (value - previous) / abs(previous)
    return change, fmt.change(change)


def _good(direction: Direction, change: float | None) -> bool | None:
    if change is None or change == 0 or direction is Direction.band:
        return None
    return (change > 0) == (direction is Direction.up)


def data(
    loaded: LoadedProject,
    board: BoardCache,
    fmt: Formats,
    _: Callable[..., str],
    filters: Filters,
    refreshed_at: dt.datetime | None,
    failed_at: dt.datetime | None = None,
) -> BoardPage:
    """The board's page. `refreshed_at`: when the newest refresh that succeeded finished;
    `failed_at`: when a later one failed (the figures are older than they should be)."""
    project = loaded.project
    assert project is not None
    every = cards(loaded, board, fmt, _)
    counts = {s: sum(c.status == s for c in every) for s in STATUSES}
    shown = ordered([c for c in every if _matches(c, filters)])
    failed = failed_at is not None and (refreshed_at is None or failed_at > refreshed_at)
    return BoardPage(
        project=project.name,
        filters=filters,
        groups=_grouped(project, shown, filters.group, _),
        total=len(every),
        shown=len(shown),
        owners=sorted({c.owner for c in every if c.owner}),
        tags=sorted({t for c in every for t in c.tags}),
        counts=counts,
        attention=[c.name for c in shown if c.attention],
        refreshed_at=_utc(refreshed_at),
        refreshed_text=fmt.moment_in(refreshed_at, project.timezone) if refreshed_at else "",
        failed_at=_utc(failed_at) if failed else None,
        failed_text=fmt.moment_in(failed_at, project.timezone) if failed else "",
        notice="empty" if refreshed_at is None else "failed" if failed else None,
    )


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    """A moment the store keeps (naive, in UTC) as one that says so."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


def _matches(card: Card, filters: Filters) -> bool:
    if filters.owner and card.owner != filters.owner:
        return False
    if filters.status and card.status != filters.status:
        return False
    if filters.tag and filters.tag not in card.tags:
        return False
    if filters.q:
        words = filters.q.casefold().split()
        text = " ".join(
            [
                card.name,
                card.title,
                card.description or "",
                card.owner or "",
                card.goal_title or "",
                *card.tags,
            ]
        ).casefold()
        return all(w in text for w in words)
    return True


def _grouped(project: Project, shown: list[Card], by: str, _: Callable[..., str]) -> list[Group]:
    """`shown` (in the board's order) in groups: those known before the cards in their own
    order (goals, statuses, attention), others as the cards bring them."""
    groups = {key: Group(key=key, title=title, cards=[]) for key, title in titled_groups(
        project, by, _
    ).items()}  # fmt: skip
    for card in shown:
        key = group_key(card) if by == "attention" else getattr(card, by) or ""
        if key not in groups:
            groups[key] = Group(key=key, title=fallback_title(by, key, _), cards=[])
        groups[key].cards.append(card)
    return [g for g in groups.values() if g.cards]

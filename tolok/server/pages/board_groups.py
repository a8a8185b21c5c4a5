"""How the board orders and groups its cards: what needs attention first.

A card needs attention when its last judged period is off track or at risk, or, fine
there, when the period under way is heading off track or at risk — the verdicts of
`tolok.answers.verdicts`, read, never worked out again. By default the board groups its cards by
that (off track, at risk, heading off track, heading at risk, then the rest by status); any
other grouping (goal, owner, …) keeps the same order inside each group.

Knows the board's cards, not how they are built (`tolok.server.pages.board`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

from tolok.i18n import status_words
from tolok.track.status import Standing

if TYPE_CHECKING:
    from tolok.answers.verdicts import KpiState
    from tolok.spec.models import Project

ATTENTION = ("off_track", "at_risk", "heading_off_track", "heading_at_risk")
"""What needs attention, the most pressing first."""
REST = ("on_track", "no_target", "no_data")
"""The statuses of the cards that need none, in the order the board shows them."""
_FLAGGED = (Standing.off_track, Standing.at_risk)


class Sortable(Protocol):
    """What ordering and grouping read of a card."""

    @property
    def attention(self) -> str | None: ...

    @property
    def status(self) -> str: ...


def attention_of(state: KpiState) -> str | None:
    """Why a KPI needs attention (a key of `ATTENTION`), or None: its last judged period's
    status, else the heading of the period under way.

    Off track in November and heading off track in December is off track: the judged
    period comes first."""
    if state.standing in _FLAGGED:
        return state.standing.value
    heading = state.open.heading if state.open is not None else None
    if heading in _FLAGGED:
        assert heading is not None
        return f"heading_{heading.value}"
    return None


def rank(card: Sortable) -> int:
    """Where a card stands in the board's order: the most pressing first."""
    return rank_of(card.attention, card.status)


def rank_of(attention: str | None, status: str) -> int:
    """Where a KPI stands in the board's order, from why it needs attention (`attention_of`)
    and its status: 0 off track, 1 at risk, 2 heading off track, 3 heading at risk, then
    on track, no target, no data (the API says it beside each KPI)."""
    if attention in ATTENTION:
        return ATTENTION.index(attention)
    return len(ATTENTION) + (REST.index(status) if status in REST else len(REST))


def attention_words(_: Callable[..., str]) -> dict[str, str]:
    """A group of the default board in words, in the language of `_`."""
    words = status_words(_)
    return {
        "off_track": words["off_track"],
        "at_risk": words["at_risk"],
        "heading_off_track": _("Heading off track"),
        "heading_at_risk": _("Heading at risk"),
        **{status: words[status] for status in REST},
    }


def group_key(card: Sortable) -> str:
    """The card's group on the default board: why it needs attention, else its status."""
    return card.attention or card.status


C = TypeVar("C", bound=Sortable)


def ordered(cards: Sequence[C]) -> list[C]:
    """`cards` with the most pressing first; the project's order among equals."""
    return sorted(cards, key=rank)


def titled_groups(project: Project, by: str, _: Callable[..., str]) -> dict[str, str]:
    """The groups known before the cards, in their own order: goals as the project lists
    them, statuses worst first, attention most pressing first."""
    if by == "goal":
        return {name: goal.title for name, goal in project.goals.items()}
    if by == "status":
        return status_words(_)
    if by == "attention":
        return attention_words(_)
    return {}


def fallback_title(by: str, key: str, _: Callable[..., str]) -> str:
    """A group's title when it is not known before the cards: the value itself in words,
    or what a card without one is under."""
    if key:
        return _label(key, _)
    return {
        "goal": _("No goal"),
        "owner": _("No owner"),
        "level": _("No level"),
        "function": _("No function"),
        "indicator": _("Neither leading nor lagging"),
    }.get(by, _("Other"))


def _label(key: str, _: Callable[..., str]) -> str:
    words = {
        "strategic": _("Strategic"),
        "operational": _("Operational"),
        "functional": _("Functional"),
        "leading": _("Leading"),
        "lagging": _("Lagging"),
        "marketing": _("Marketing"),
        "sales": _("Sales"),
        "service": _("Service"),
        "website": _("Website"),
        "finance": _("Finance"),
        "hr": _("HR"),
        "it": _("IT"),
        "operations": _("Operations"),
    }
    return words.get(key, key)

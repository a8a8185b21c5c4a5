"""Periods far outside what a KPI usually does, robust to trend and season, without echoes.

Each period's value is compared with a guess of what it "should" be: its *level*, the mean
of the four periods before, plus its *seasonal offset*, the median of how the same period
sat against its own level in each of the (up to) four seasons before — so a December that
is always high is no surprise, and a steady trend cancels out. The gaps between values and
guesses (less their median) are scaled by their median absolute deviation, a spread that
outliers do not inflate, and never by less than 2% of the KPI's typical level; a period
whose scaled gap (a modified z-score) passes `threshold`, 3.5 by default, is an anomaly.
Guesses from the level alone (the first season, before any season back is known) miss by
more, so they are scaled by how much such guesses miss: the first season's ups and downs
are not all flagged, though a clear peak still is, the first time.

No echoes: periods are judged in time order, and a period in doubt (scaled gap past 2.5,
flagged or nearly) is replaced by its guess in the basis that later seasons take their
references from, and in the levels of the periods right after it (in the first season,
only a flagged one, and by nothing: what it should have been is unknown). So a one-off spike or
outage is not the reference for the same period a season later, which would otherwise look
unusual the other way (on daily data, a false "echo" seven days after every real anomaly).
Chosen over a robust reference from several past seasons alone, which still echoes while
fewer than three seasons are known — most of a two-year history — though the median over
up to four seasons is kept as a second line of defence. Two cases look like a one-off at
first and are not:

- A flagged pattern that recurs (a December peak seen for the second time) is far from the
  cleaned guess and nearer the raw one: it is the season. It is not flagged, and the
  references are restored, so a new pattern is learnt after one surprise.
- A step change (a price change, a new tracking tag): once fewer than two of the last four
  periods are trusted, the level is their plain median and follows the step (after about
  three flags); a period that then fits confirms it, and the level trusts the step again.

The spread is first measured on guesses from the raw values, then once more on the cleaned
guesses (a few anomalies in a short history would widen it enough to hide themselves).
Each guess uses earlier periods only; the spread is the whole history's. An anomaly in the
very first season is judged against the level alone and can be missed where the season
swings widely (if it is, it stays a reference for the next season); two or more anomalies
in a row are cleaned only as far as each is flagged or nearly so.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

MIN_PERIODS = 8
WINDOW = 4  # periods before whose mean is the level
SEASONS = 4  # seasons back whose median offset is the seasonal reference
MIN_GAPS = 4  # level-only guesses needed to give them a spread of their own
DOUBT = 2.5  # scaled gap beyond which a period is no reference, flagged or not

_Gap = tuple[bool, float]  # (had a season back, value less guess)


@dataclass(frozen=True)
class Anomaly:
    period: dt.date
    value: float
    expected: float
    score: float  # modified z-score: positive when higher than expected


@dataclass(frozen=True)
class _Scale:
    """How far guesses usually miss: (center, spread) for seasonal and level-only ones."""

    seasonal: tuple[float, float]
    level_only: tuple[float, float]

    def of(self, seasonal: bool) -> tuple[float, float]:
        return self.seasonal if seasonal else self.level_only


def anomalies(
    history: list[tuple[dt.date, float | None]], season: int = 1, threshold: float = 3.5
) -> list[Anomaly]:
    """The anomalous periods of a history (in order), or none when it is too short.

    The first time a seasonal peak shows up it is a surprise, and is flagged; the second
    time it is the season. A one-off spike is flagged once: the same period a season later
    is judged as if the spike had been what was expected.

    The spread is first measured on guesses from the raw values, in which each anomaly
    still echoes and shifts its neighbours' level; once judged, it is measured again on
    the cleaned guesses and the history judged again with it: a few anomalies in a short
    history would otherwise widen the spread enough to hide themselves.
    """
    known = [abs(v) for _, v in history if v is not None]
    if len(known) < MIN_PERIODS:
        return []
    typical = statistics.median(known)
    unit = _Scale((0.0, 1.0), (0.0, 1.0))  # scores do not matter where nothing is judged
    _, raw_gaps = _judge(history, season, unit, math.inf, math.inf)
    scale = _scale(raw_gaps, typical, season)
    if scale is None:
        return []
    doubt = min(threshold, DOUBT)
    found, gaps = _judge(history, season, scale, threshold, doubt)
    rescaled = _scale(gaps, typical, season)
    if rescaled is None or rescaled == scale:
        return found
    return _judge(history, season, rescaled, threshold, doubt)[0]


def _judge(
    history: list[tuple[dt.date, float | None]],
    season: int,
    scale: _Scale,
    threshold: float,
    doubt: float,
) -> tuple[list[Anomaly], list[_Gap]]:
    """The anomalies, judged in time order, and how far each period's guess missed.

    With an infinite `doubt` nothing is cleaned: the guesses of the raw values."""
    run = _Pass([v for _, v in history], season, scale, doubt, threshold)
    found, gaps = [], []
    for period, value in history:
        judged = run.step()
        if judged is None or value is None:
            continue
        seasonal, guess, score = judged
        gaps.append((seasonal, value - guess))
        if abs(score) > threshold:
            found.append(Anomaly(period, value, guess, score))
    return found, gaps


@dataclass
class _Pass:
    """One pass over a history in time order, and what it has cleaned so far.

    A period whose score passes `doubt` (flagged, or nearly so) is replaced by its guess
    in `basis`, the values later seasons take their references and the next periods their
    level from. When the guess lacked a season the KPI has (the first season), what the
    period should have been is unknown: it is replaced by nothing, and only when flagged,
    as a period that merely sits far from its neighbours is most likely its season showing.
    An infinite `doubt` cleans nothing: the raw guesses."""

    values: list[float | None]
    season: int
    scale: _Scale
    doubt: float
    threshold: float
    basis: list[float | None] = field(init=False)
    levels: list[float | None] = field(default_factory=list)
    doubted: set[int] | None = field(init=False)

    def __post_init__(self) -> None:
        self.basis = list(self.values)
        self.doubted = None if math.isinf(self.doubt) else set()

    def step(self) -> tuple[bool, float, float] | None:
        """Judge the next period: (seasonal guess, guess, score), or None if it can't be.

        When the guess from the cleaned references fails but the one from the raw values
        is nearer, a flagged pattern has recurred (a December peak seen again): it is the
        season, not a one-off, and those references are restored."""
        index = len(self.levels)
        level, stepped = _level(self.values, self.basis, self.doubted, index)
        self.levels.append(level)
        value = self.values[index]
        if value is None or level is None:
            return None
        refs = _references(self.values, self.levels, index, self.season)
        guess, seasonal = _guess(level, self.basis, self.levels, refs)
        score = self.score(value, guess, seasonal)
        cleaned = [r for r in refs if self.basis[r] != self.values[r]]
        if cleaned and abs(score) > self.doubt:
            raw, _ = _guess(level, self.values, self.levels, refs)
            raw_score = self.score(value, raw, True)
            if abs(raw_score) < abs(score):
                self.restore(cleaned)
                guess, seasonal, score = raw, True, raw_score
        if self.doubted is None:
            return seasonal, guess, score
        known = seasonal or self.season <= 1  # what the period should have been
        if abs(score) > (self.doubt if known else self.threshold):
            self.basis[index] = guess if known else None
            self.doubted.add(index)
        elif stepped:  # the level moved for good: the periods in doubt were the step
            self.doubted.difference_update(range(index - WINDOW, index))
        return seasonal, guess, score

    def restore(self, cleaned: list[int]) -> None:
        """Trust these periods again: as references, and in the levels they entered."""
        for r in cleaned:
            self.basis[r] = self.values[r]
            if self.doubted is not None:
                self.doubted.discard(r)
        for j in {j for r in cleaned for j in range(r + 1, r + WINDOW + 1)}:
            if j < len(self.levels) - 1:
                self.levels[j] = _level(self.values, self.basis, self.doubted, j)[0]

    def score(self, value: float, guess: float, seasonal: bool) -> float:
        center, spread = self.scale.of(seasonal)
        return (value - guess - center) / spread


def _level(
    values: Sequence[float | None],
    basis: Sequence[float | None],
    doubted: set[int] | None,
    index: int,
) -> tuple[float | None, bool]:
    """The level a period is judged from, and whether it follows a step change.

    The mean of the (up to) four periods before, those in doubt at their cleaned value or
    left out if it is unknown — a mean, as leaving a period out would shift the level by
    that period's own season. The median of the raw values when nothing has been judged
    yet (`doubted` is None), or when fewer than two of them are trusted: a step change,
    which the level then follows. None unless three are known."""
    window = range(max(0, index - WINDOW), index)
    known = [v for i in window if (v := values[i]) is not None]
    if len(known) < 3:
        return None, False
    if doubted is None:
        return statistics.median(known), False
    trusted = [v for i in window if (v := values[i]) is not None and i not in doubted]
    if len(trusted) < 2:
        return statistics.median(known), True
    cleaned = [v for i in window if i in doubted and (v := basis[i]) is not None]
    return statistics.fmean(trusted + cleaned), False


def _references(
    values: Sequence[float | None], levels: Sequence[float | None], index: int, season: int
) -> list[int]:
    """The same period in each of the seasons before whose value and level are known."""
    if season <= 1:
        return []
    back = (index - k * season for k in range(1, SEASONS + 1))
    return [r for r in back if r >= 0 and values[r] is not None and levels[r] is not None]


def _guess(
    level: float, basis: Sequence[float | None], levels: Sequence[float | None], refs: list[int]
) -> tuple[float, bool]:
    """The level plus the median offset of the references whose value `basis` holds, and
    whether there were any (else the guess is the level alone)."""
    offsets = []
    for r in refs:
        then, level_then = basis[r], levels[r]
        if then is not None and level_then is not None:
            offsets.append(then - level_then)
    return (level + statistics.median(offsets), True) if offsets else (level, False)


def _robust(gaps: list[float]) -> tuple[float, float]:
    """The median of the gaps and their spread (MAD scaled to a normal's deviation)."""
    center = statistics.median(gaps)
    return center, statistics.median(abs(g - center) for g in gaps) * 1.4826


def _scale(gaps: list[_Gap], typical: float, season: int) -> _Scale | None:
    """How far guesses usually miss, or None when too few periods can be judged.

    Never less than 2% of the KPI's `typical` level, so a near-constant KPI does not flag
    its rounding. Level-only guesses (the first season) miss by more, the season not being
    in them yet: once there are enough seasonal guesses those are scaled on their own (the
    first season would widen their spread and hide anomalies), and with enough level-only
    ones these get their own spread, never narrower than the seasonal one."""
    if len(gaps) < MIN_PERIODS:
        return None
    seasonal = [g for had, g in gaps if had]
    level_only = [g for had, g in gaps if not had]
    center, spread = _robust(seasonal if len(seasonal) >= MIN_PERIODS else [g for _, g in gaps])
    spread = max(spread, 0.02 * typical)
    if spread == 0:
        return None
    if season <= 1 or len(level_only) < MIN_GAPS:
        return _Scale((center, spread), (center, spread))
    alone, wide = _robust(level_only)
    return _Scale((center, spread), (alone, max(wide, spread)))

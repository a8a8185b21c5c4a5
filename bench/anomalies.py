"""Benchmark: anomaly detection on synthetic series: false flags, detection and echoes.

    python bench/anomalies.py [--seeds 20]

Per seed, a daily series (two years, season 7) and a monthly one (five years, season 12):
trend + weekly (daily only) and yearly season + Gaussian noise of a known sigma. On the
clean series every flag is a false one. Copies of it then get spikes and drops of 6-8, 8-10
and 10-12 sigmas planted at random periods that have a season back (so that a seasonal
expectation exists), never one to four seasons apart: each should be flagged, with its
sign, and the period one season after each should not be (an "echo": flagged there with
the anomaly and not without it). The detector in tolok and the one before issue 18
(`anomalies_before_18`, copied below, unchanged but for names) run on the very same
series in one run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tolok.catalog.generate import Days
from tolok.catalog.init import SEED
from tolok.track.anomalies import Anomaly, anomalies

Detector = Callable[[list[tuple[dt.date, float | None]], int], list[Anomaly]]


# --- the baseline: tolok/track/anomalies.py before issue 18, unchanged but for names ---


def anomalies_before_18(
    history: list[tuple[dt.date, float | None]], season: int = 1, threshold: float = 3.5
) -> list[Anomaly]:
    """Median of the four periods before, shifted by how the same period one season back
    sat against its own four predecessors (an anomaly there echoes a season later)."""
    values = [v for _, v in history]
    if len([v for v in values if v is not None]) < 8:
        return []
    expected = [_old_expected(values, i, season) for i in range(len(values))]
    gaps = [v - e for v, e in zip(values, expected, strict=True) if v is not None and e is not None]
    if len(gaps) < 8:
        return []
    center = statistics.median(gaps)
    level = statistics.median(abs(v) for v in values if v is not None)
    spread = max(statistics.median(abs(g - center) for g in gaps) * 1.4826, 0.02 * level)
    if spread == 0:
        return []
    out = []
    for (period, value), guess in zip(history, expected, strict=True):
        if value is None or guess is None:
            continue
        score = (value - guess - center) / spread
        if abs(score) > threshold:
            out.append(Anomaly(period, value, guess, score))
    return out


def _old_before(values: list[float | None], index: int) -> float | None:
    earlier = [v for v in values[max(0, index - 4) : index] if v is not None]
    return statistics.median(earlier) if len(earlier) >= 3 else None


def _old_expected(values: list[float | None], index: int, season: int) -> float | None:
    local = _old_before(values, index)
    if local is None:
        return None
    back = index - season
    if season > 1 and back >= 0:
        then, typical = values[back], _old_before(values, back)
        if then is not None and typical is not None:
            return local + (then - typical)
    return local


# --- synthetic series ---


@dataclass(frozen=True)
class Series:
    kind: str
    season: int
    periods: list[dt.date]
    values: np.ndarray
    sigma: float


def daily(rng: np.random.Generator, days: int = 730) -> Series:
    """Level 1,000, a trend of 0-15 % a year, a weekday pattern, a yearly wave, noise 2.5-4 %."""
    t = np.arange(days)
    weekly = rng.normal(0, 60, 7)
    weekly -= weekly.mean()
    yearly = rng.uniform(80, 200) * np.sin(2 * np.pi * t / 365.25 + rng.uniform(0, 2 * np.pi))
    sigma = rng.uniform(25, 40)
    values = 1000 + rng.uniform(0, 0.4) * t + weekly[t % 7] + yearly + rng.normal(0, sigma, days)
    first = dt.date(2023, 1, 2)
    return Series("daily", 7, [first + dt.timedelta(days=int(d)) for d in t], values, sigma)


def monthly(rng: np.random.Generator, months: int = 60) -> Series:
    """Level 10,000, a trend of 0-7 % a year, a yearly pattern by month, noise 2.5-4 %."""
    t = np.arange(months)
    yearly = rng.normal(0, 700, 12)
    yearly -= yearly.mean()
    sigma = rng.uniform(250, 400)
    values = 10_000 + rng.uniform(0, 60) * t + yearly[t % 12] + rng.normal(0, sigma, months)
    periods = [dt.date(2020 + m // 12, m % 12 + 1, 1) for m in range(months)]
    return Series("monthly", 12, periods, values, sigma)


def plant(
    series: Series, rng: np.random.Generator, count: int, low: float, high: float
) -> dict[int, float]:
    """Spikes and drops of low-high sigmas at periods that have a season back, spaced so
    that none sits in another's four-period level nor one to four seasons from it."""
    chosen: dict[int, float] = {}
    start = series.season + 4
    while len(chosen) < count:
        at = int(rng.integers(start, len(series.values)))
        apart = (abs(at - o) for o in chosen)
        if all(d > 4 and (d % series.season or d > 4 * series.season) for d in apart):
            chosen[at] = float(rng.choice([-1.0, 1.0]) * rng.uniform(low, high) * series.sigma)
    return chosen


# --- measurement ---


@dataclass
class Tally:
    points: int = 0  # judged: every period after the first three (both detectors need three)
    false_flags: int = 0
    planted: int = 0
    found: int = 0
    echo_slots: int = 0
    echoes: int = 0
    seconds: float = 0.0
    runs: int = 0

    def flags(self, detect: Detector, series: Series, values: np.ndarray) -> dict[int, float]:
        """The detector's flags on these values (index: score), timed."""
        history: list[tuple[dt.date, float | None]] = [
            (p, float(v)) for p, v in zip(series.periods, values, strict=True)
        ]
        began = time.perf_counter()
        found = detect(history, series.season)
        self.seconds += time.perf_counter() - began
        self.runs += 1
        index = {p: i for i, p in enumerate(series.periods)}
        return {index[a.period]: a.score for a in found}


def clean(detect: Detector, series: Series, into: Tally) -> dict[int, float]:
    """Count the false flags on a clean series; return them."""
    flagged = into.flags(detect, series, series.values)
    into.points += len(series.values) - 3
    into.false_flags += len(flagged)
    return flagged


def planted(
    detect: Detector,
    series: Series,
    spikes: dict[int, float],
    before: dict[int, float],
    into: Tally,
) -> None:
    """Count the planted anomalies found (with their sign) and the echoes a season later."""
    spiked = series.values.copy()
    for at, size in spikes.items():
        spiked[at] += size
    flagged = into.flags(detect, series, spiked)
    into.planted += len(spikes)
    into.found += sum(at in flagged and flagged[at] * size > 0 for at, size in spikes.items())
    later = [at + series.season for at in spikes if at + series.season < len(spiked)]
    into.echo_slots += len(later)
    into.echoes += sum(at in flagged and at not in before for at in later)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    detectors: dict[str, Detector] = {
        "tolok": lambda h, s: anomalies(h, season=s),
        "before issue 18": lambda h, s: anomalies_before_18(h, season=s),
    }
    bands = ((6.0, 8.0), (8.0, 10.0), (10.0, 12.0))
    print(f"load average: {os.getloadavg()[0]:.1f}; {args.seeds} seeds; "
          "daily: 730 days, season 7, 8 anomalies; monthly: 60 months, season 12, 3")  # fmt: skip
    rows = []
    for make, count in ((daily, 8), (monthly, 3)):
        clean_tally = {name: Tally() for name in detectors}
        band_tally = {(name, band): Tally() for name in detectors for band in bands}
        for seed in range(args.seeds):
            rng = np.random.default_rng(seed)
            series = make(rng)
            spikes = {band: plant(series, rng, count, *band) for band in bands}
            for name, detect in detectors.items():
                before = clean(detect, series, clean_tally[name])
                for band in bands:
                    planted(detect, series, spikes[band], before, band_tally[name, band])
        rows.append((make.__name__, clean_tally, band_tally))
    report(rows, bands)
    print("\nthe ecommerce template's website traffic by day (`tolok init` on 2026-12-06):")
    for name, detect in detectors.items():
        print(f"  {name:<17}{template_traffic(detect)}")


def template_traffic(detect: Detector) -> str:
    """Flags on the sessions a day that `tolok init --template ecommerce` writes, how many
    of them sit a week after a flag of the other sign (echoes), and how many of the four
    anomaly days it plants (two sales, an outage, a half day) are among them."""
    rng = np.random.default_rng(SEED)
    days = Days.ending(dt.date(2026, 12, 5), rng)
    sessions = rng.poisson(days.rates(420, 0.22))  # the template's first draw: its sessions
    history: list[tuple[dt.date, float | None]] = [
        (d, float(n)) for d, n in zip(days.all(), sessions, strict=True)
    ]
    found = {a.period: a.score for a in detect(history, 7)}
    week = dt.timedelta(days=7)
    echoes = sum(d - week in found and found[d - week] * s < 0 for d, s in found.items())
    planted = sum(d in found for d in days.anomalies)
    return f"{len(found)} flags, {echoes} echoes, {planted} of {len(days.anomalies)} planted days"


def row(*cells: object) -> str:
    """A table row: the first two cells left-aligned, the rest right-aligned."""
    widths = (9, 17, 8, 13, 9, 11, 9)
    return "".join(
        f"{c!s:<{w}}" if i < 2 else f"{c!s:>{w}}"
        for i, (c, w) in enumerate(zip(cells, widths, strict=False))
    )


def report(
    rows: list[tuple[str, dict[str, Tally], dict[tuple[str, tuple[float, float]], Tally]]],
    bands: tuple[tuple[float, float], ...],
) -> None:
    print("\n" + row("series", "detector", "points", "false flags", "rate", "ms/series"))
    for kind, clean_tally, _ in rows:
        for name, t in clean_tally.items():
            rate = f"{t.false_flags / t.points:.2%}"
            ms = f"{t.seconds / t.runs * 1000:.2f}"
            print(row(kind, name, f"{t.points:,}", t.false_flags, rate, ms))
    print("\n" + row("series", "detector", "sigmas", "found", "rate", "echoes", "rate"))
    for kind, clean_tally, band_tally in rows:
        for name in clean_tally:
            for low, high in bands:
                t = band_tally[name, (low, high)]
                found, echoes = f"{t.found}/{t.planted}", f"{t.echoes}/{t.echo_slots}"
                found_rate = f"{t.found / t.planted:.1%}"
                echo_rate = f"{t.echoes / t.echo_slots:.1%}"
                print(row(kind, name, f"{low:g}-{high:g}", found, found_rate, echoes, echo_rate))


if __name__ == "__main__":
    main()

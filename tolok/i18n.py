"""The pages' language: English or Bahasa Indonesia, from Babel message catalogs
(`locale/<lang>/LC_MESSAGES/messages.po`, read once), and numbers, money, percentages and
dates in that language's habits.

The language of a request: `?lang=` (remembered in a cookie), else the cookie, else the
project's `locale`. Strings are marked `_("…")` in templates and pages; `make messages`
extracts them (see `babel.cfg`) and a test holds every one to a translation.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tolok.display import (
    MISSING,
    format_change,
    format_compact_values,
    format_points,
    format_share,
    format_value,
    format_values,
    value_decimals,
)
from tolok.spec.calendar import Calendar
from tolok.spec.models import Grain, Unit
from tolok.spec.problems import Voice

LANGS = ("en", "id")
LANG_COOKIE = "tolok_lang"
LOCALES = Path(__file__).parent / "locale"


def format_date(day: dt.date, pattern: str, locale: str) -> str:
    """Babel's `format_date`, imported when a date is first written (not by a command that
    writes none)."""
    from babel.dates import format_date as formatted

    return formatted(day, pattern, locale=locale)


@cache
def messages(lang: str) -> dict[str, str]:
    """The catalog of `lang` as a mapping from English to `lang` (English: empty)."""
    path = LOCALES / lang / "LC_MESSAGES" / "messages.po"
    if lang == "en" or not path.exists():
        return {}
    return read_catalog(path, lang)


def read_catalog(path: Path, lang: str) -> dict[str, str]:
    """A `.po` file's translations. Babel reads one in about 0.35 s, which every command in
    Indonesian paid at start; what it read is kept as JSON in the user's cache folder
    (`$XDG_CACHE_HOME/tolok`, else `~/.cache/tolok`), named by the file's content, and read
    from there (a few ms) until the file changes. A cache that cannot be written or read is
    done without."""
    import hashlib
    import json

    body = path.read_bytes()
    kept = _cache_folder() / f"messages-{lang}-{hashlib.sha256(body).hexdigest()[:20]}.json"
    try:
        table: dict[str, str] = json.loads(kept.read_text(encoding="utf-8"))
        return table
    except (OSError, ValueError):
        pass
    from io import BytesIO

    from babel.messages.pofile import read_po

    catalog = read_po(BytesIO(body), locale=lang)
    table = {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}
    try:
        kept.parent.mkdir(parents=True, exist_ok=True)
        partial = kept.with_name(f"{kept.name}.{os.getpid()}")
        partial.write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
        os.replace(partial, kept)  # whole or not at all, whoever else writes it
    except OSError:
        pass
    return table


def _cache_folder() -> Path:
    home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(home) / "tolok"


def gettext(lang: str) -> Callable[..., str]:
    """`_("Owner")` in `lang`; keyword arguments fill `{name}` placeholders after translation."""
    table = messages(lang)

    def translate(text: str, **values: object) -> str:
        found = table.get(text, text)
        return found.format(**values) if values else found

    return translate


@dataclass(frozen=True)
class Formats:
    """Values, changes and periods as people of `lang` write them."""

    lang: str
    currency: str
    calendar: Calendar

    def value(self, value: float | None, unit: Unit | str) -> str:
        return format_value(value, Unit(unit), self.currency, self.lang)

    def values(self, values: Sequence[float | None], unit: Unit | str) -> list[str]:
        """Values of one KPI shown side by side (value, target, so far, projected,
        thresholds): decimals added only where two would otherwise read alike."""
        return format_values(values, Unit(unit), self.currency, self.lang)

    def compact(self, values: Sequence[float | None], unit: Unit | str) -> list[str]:
        """`values` as `values` writes them, money in compact form for a glance (`Rp 555,8
        jt`, `$1.2M`): the full figure belongs beside it."""
        return format_compact_values(values, Unit(unit), self.currency, self.lang)

    def change(self, change: float | None) -> str:
        return format_change(change, self.lang)

    def points(self, difference: float | None, decimals: int | None = None) -> str:
        return format_points(difference, self.lang, decimals)

    def value_decimals(self, values: Sequence[float | None], unit: Unit | str) -> int:
        """The decimals `values` shows these in: pass to `points` so a change in percentage
        points keeps the decimals of the percentages it lies between."""
        return value_decimals(values, Unit(unit), self.currency)

    def share(self, share: float | None) -> str:
        """A share of a whole, as a whole percentage: `87%`, `87 %` in neither."""
        return format_share(share, self.lang)

    def period(self, start: dt.date, grain: Grain | str) -> str:
        """A period's name as a reader says it: `Oct 2026` / `Okt 2026`, `5 Oct 2026`,
        `Q3 2025` / `Kuartal 3 2025`, `Week 41, 2026` / `Minggu ke-41 2026`, `FY2027` /
        `TA 2027`, `Q1 FY2027` / `Kuartal 1 TA 2027`. Words for people: URLs, query
        parameters, JSON and files keep the calendar's label (`2025-Q3`, `2026-W41`)."""
        grain = Grain(grain)
        if grain is Grain.month:
            return format_date(start, "MMM y", locale=self.lang)
        if grain is Grain.day:
            return format_date(start, "d MMM y", locale=self.lang)
        label = self.calendar.label(start, grain)
        parts = _LABEL_PARTS.fullmatch(label)
        if grain is Grain.year or parts is None:
            return label
        words = _PERIOD_WORDS.get(self.lang, _PERIOD_WORDS["en"])
        if grain is Grain.week:
            return words["week"].format(number=int(parts["week"]), year=parts["year"])
        year = words["fiscal"].format(year=parts["fy"]) if parts["fy"] else parts["year"]
        if parts["q"] is None:
            return year
        return words["quarter"].format(number=parts["q"], year=year)

    def day(self, day: dt.date | None) -> str:
        return MISSING if day is None else format_date(day, "d MMM y", locale=self.lang)

    def time_of_day(self, moment: dt.datetime | dt.time) -> str:
        """A time of day as the language writes it, on the 24-hour clock: `14:05` in
        English, `14.05` in Indonesian (Babel's short time pattern, hours kept 24)."""
        from babel.dates import format_time

        return format_time(moment, _clock_pattern(self.lang), locale=self.lang)

    def moment(self, moment: dt.datetime | None) -> str:
        """A moment with its day and time of day: `7 Dec 2026 14:05`, `7 Des 2026 14.05`."""
        if moment is None:
            return MISSING
        return f"{format_date(moment, 'd MMM y', locale=self.lang)} {self.time_of_day(moment)}"

    def moment_in(self, moment: dt.datetime | None, zone: str) -> str:
        """A moment the store keeps (naive, in UTC) in the time zone `zone`, which it names:
        `7 Dec 2026 14:05 WIB`, `7 Des 2026 14.05 WIB` (a zone without a name as `UTC+07`)."""
        from zoneinfo import ZoneInfo

        if moment is None:
            return MISSING
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        local = moment.astimezone(ZoneInfo(zone))
        name = local.tzname() or "UTC"
        name = name if name[:1].isalpha() else f"UTC{name}"
        return f"{self.moment(local.replace(tzinfo=None))} {name}"


_LABEL_PARTS = re.compile(
    r"(?:FY(?P<fy>\d{4})|(?P<year>\d{4}))(?:-Q(?P<q>[1-4])|-W(?P<week>\d{2}))?"
)
"""The calendar's label of a week, quarter or (fiscal) year, taken apart to be put in words."""
_PERIOD_WORDS = {
    "en": {"week": "Week {number}, {year}", "quarter": "Q{number} {year}", "fiscal": "FY{year}"},
    "id": {"week": "Minggu ke-{number} {year}", "quarter": "Kuartal {number} {year}",
           "fiscal": "TA {year}"},
}  # fmt: skip
"""Periods in words: a quarter of a fiscal year is `Q1 FY2027` / `Kuartal 1 TA 2027`."""


@cache
def _clock_pattern(lang: str) -> str:
    """The language's short time pattern on the 24-hour clock: `HH:mm`, `HH.mm`."""
    from babel.dates import get_time_format

    pattern = str(get_time_format("short", locale=lang).pattern)
    return pattern if "H" in pattern else "HH:mm"


def parse_number(text: str, lang: str) -> float:
    """A number as typed in a form: in the page's language (`1.500.000`, `12,5` in
    Indonesian), else plainly (`1500000.5`). ValueError when it is none."""
    from babel.numbers import NumberFormatError, parse_decimal

    cleaned = text.strip().replace("\u00a0", "").replace(" ", "")
    try:
        return float(parse_decimal(cleaned, locale=lang, strict=True))
    except NumberFormatError:
        return float(cleaned)  # ValueError when it is not a number either


DAY_PATTERNS = {"id": "%d/%m/%Y"}  # besides ISO, how a day is typed in the page's language


def parse_day(text: str, lang: str) -> dt.date:
    """A day as typed in a form: ISO (`2026-03-15`, what a date field sends) or the page's
    language's way (`15/03/2026` in Indonesian). ValueError when it is neither."""
    text = text.strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        if lang not in DAY_PATTERNS:
            raise
    return dt.datetime.strptime(text, DAY_PATTERNS[lang]).date()


def status_words(_: Callable[..., str]) -> dict[str, str]:
    """A status in words, in the language of `_`."""
    return {"on_track": _("On track"), "at_risk": _("At risk"), "off_track": _("Off track"),
            "no_target": _("No target"), "no_data": _("No data")}  # fmt: skip


__all__ = ["LANGS", "LANG_COOKIE", "Formats", "gettext", "messages", "parse_day", "parse_number",
           "status_words"]  # fmt: skip


def voice(lang: str) -> Voice:
    """The words of a project's problems (`tolok validate`) in `lang`, from the catalog."""
    return Voice(lang, messages(lang).get)

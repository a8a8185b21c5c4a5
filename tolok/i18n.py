"""The pages' language: English or Bahasa Indonesia, from Babel message catalogs
(`locale/<lang>/LC_MESSAGES/messages.po`, read once), and numbers, money, percentages and
dates in that language's habits.

The language of a request: `?lang=` (remembered in a cookie), else the cookie, else the
project's `locale`. Strings are marked `_("…")` in templates and pages; `make messages`
extracts them (see `babel.cfg`) and a test holds every one to a translation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.dates import format_date, format_datetime
from babel.messages.pofile import read_po

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

LANGS = ("en", "id")
LANG_COOKIE = "tolok_lang"
LOCALES = Path(__file__).parent / "locale"


@cache
def messages(lang: str) -> dict[str, str]:
    """The catalog of `lang` as a mapping from English to `lang` (English: empty)."""
    path = LOCALES / lang / "LC_MESSAGES" / "messages.po"
    if lang == "en" or not path.exists():
        return {}
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}


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
        """A period's name: `Oct 2026` / `Okt 2026`, `5 Oct 2026`, else its label
        (`2026-W41`, `2026-Q3`, `FY2027`)."""
        grain = Grain(grain)
        if grain is Grain.month:
            return format_date(start, "MMM y", locale=self.lang)
        if grain is Grain.day:
            return format_date(start, "d MMM y", locale=self.lang)
        return self.calendar.label(start, grain)

    def day(self, day: dt.date | None) -> str:
        return MISSING if day is None else format_date(day, "d MMM y", locale=self.lang)

    def moment(self, moment: dt.datetime | None) -> str:
        if moment is None:
            return MISSING
        return format_datetime(moment, "d MMM y HH:mm", locale=self.lang)

    def moment_in(self, moment: dt.datetime | None, zone: str) -> str:
        """A moment the store keeps (naive, in UTC) in the time zone `zone`, which it names:
        `7 Dec 2026 14:05 WIB`, `7 Des 2026 14.05 WIB` (a zone without a name as `UTC+07`)."""
        from zoneinfo import ZoneInfo

        from babel.dates import format_time, get_time_format

        if moment is None:
            return MISSING
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        local = moment.astimezone(ZoneInfo(zone))
        pattern = get_time_format("short", locale=self.lang).pattern
        clock = format_time(local, pattern if "H" in pattern else "HH:mm", locale=self.lang)
        name = local.tzname() or "UTC"
        name = name if name[:1].isalpha() else f"UTC{name}"
        return f"{format_date(local, 'd MMM y', locale=self.lang)} {clock} {name}"


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

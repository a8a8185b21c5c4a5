"""The terminal's language: `tolok --lang id …` (or $TOLOK_LANG), else the project's `locale`,
else English.

The terminal speaks through the pages' catalogs and formats (`tolok.i18n`): a status, a number
or a period reads the same in the terminal as on the board. Strings are marked `_("…")`;
`make messages` extracts them with the pages' (see `babel.cfg`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from tolok.i18n import Formats, gettext
from tolok.spec.calendar import Calendar
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import Grain, Locale, Project

_CHOSEN: dict[str, str] = {}


def choose(lang: str | None) -> None:
    """The language asked for on the command line, for the rest of this run (None: the
    project's)."""
    _CHOSEN.clear()
    if lang:
        _CHOSEN["lang"] = lang


def asked() -> str | None:
    """The language asked for on the command line or in $TOLOK_LANG, if any."""
    return _CHOSEN.get("lang")


def lang_of(project: Project | None = None) -> str:
    """`en` or `id`: the one asked for, else the project's, else English."""
    if "lang" in _CHOSEN:
        return _CHOSEN["lang"]
    return project.locale.value if project is not None else "en"


def words(project: Project | None = None) -> Callable[..., str]:
    """`_("Owner")` in the terminal's language."""
    return gettext(lang_of(project))


def formats(project: Project) -> Formats:
    return Formats(lang_of(project), project.currency, Calendar.of(project))


def period_label(project: Project, start: dt.date, grain: Grain) -> str:
    """A period as the terminal names it: in English the calendar's label, which `--from` and
    `--period` take back (`2026-10`); in Indonesian as the pages name it (`Okt 2026`)."""
    if lang_of(project) == "en":
        return Calendar.of(project).label(start, grain)
    return formats(project).period(start, grain)


def status_word(standing: str, _: Callable[..., str]) -> str:
    """A status or heading as the terminal writes it: `on track`, `sesuai target` (the words
    of the pages, in lower case)."""
    names = {"on_track": _("on track"), "at_risk": _("at risk"), "off_track": _("off track"),
             "no_target": _("no target"), "no_data": _("no data")}  # fmt: skip
    return names.get(standing, standing.replace("_", " "))


def spoken(loaded: LoadedProject) -> LoadedProject:
    """`loaded` with the terminal's language as its locale, for what reads the project's
    (lint's findings, the explanation's words)."""
    project = loaded.project
    if project is None or lang_of(project) == project.locale.value:
        return loaded
    changed = project.model_copy(update={"locale": Locale(lang_of(project))})
    return dataclasses.replace(loaded, project=changed)


def counted(number: int, one: str, many: str, lang: str) -> str:
    """`1 error`, `2 errors`, `2 galat`: `one` and `many` are both forms, translated where
    they were written (`_("{n} error")`), with `{n}` for the number in `lang`'s digits
    (`386.962 baris`)."""
    return (one if number == 1 else many).format(n=number_text(number, lang))


def number_text(number: int, lang: str) -> str:
    """A count in `lang`'s digits: `386,962`, `386.962`."""
    if lang in ("en", "id"):  # as Babel writes them, without loading its locale data
        text = f"{number:,}"
        return text if lang == "en" else text.replace(",", ".")
    from babel.numbers import format_decimal

    return format_decimal(number, "#,##0", locale=lang)


__all__ = [
    "asked",
    "choose",
    "counted",
    "formats",
    "lang_of",
    "number_text",
    "period_label",
    "spoken",
    "status_word",
    "words",
]

"""What the packages under the surfaces tell a person (an entry refused, a bad row, an
unknown account), said in the reader's language: by the terminal, and by the pages and the
API where they pass such a sentence on (a bad row of an uploaded file).

`store`, `engine`, `auth` and `catalog` raise their messages in English words, one sentence
each, with the names and values in it. A surface recognises each such sentence by its
shape and says it again in the reader's language from the catalog (`_("…")`), the names and
values kept; a sentence it does not know is shown as it came, never lost.

    >>> from tolok.i18n import gettext
    >>> said_in("'abc' is not a number", gettext("id"))
    "'abc' bukan angka"
    >>> said_in("something new", gettext("id"))
    'something new'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tolok.engine.rows import RowProblem

Words = Callable[..., str]
INNER = {"problem", "reason"}
"""Groups that are a message themselves (a period's error inside an entry's): said again."""
LISTS = {"names"}
"""Groups that list names, or say `none`."""
PROBE = "'{value}' is not a number"
"""A sentence every catalog but English's says in other words."""


def _shapes(_: Words) -> list[tuple[str, str]]:
    """(the English sentence as a pattern, its words in the catalog)."""
    return [
        # entries (`tolok enter`, `tolok target set`)
        (r"'(?P<value>.*)' is not a number", _("'{value}' is not a number")),
        (r"'(?P<value>.*)' is too large: write .*", _("'{value}' is too large")),
        (r"'(?P<dataset>.*)' is not a manual dataset \(manual datasets: (?P<names>.*)\)",
         _("'{dataset}' is not a manual dataset (manual datasets: {names})")),
        (r"dataset '(?P<dataset>.*)' has no measure '(?P<measure>.*)' \(measures: (?P<names>.*)\)",
         _("dataset '{dataset}' has no measure '{measure}' (measures: {names})")),
        (r"'(?P<name>.*)' is not a dimension of '(?P<dataset>.*)' \(dimensions: (?P<names>.*)\)",
         _("'{name}' is not a dimension of '{dataset}' (dimensions: {names})")),
        (r"(?P<problem>.*); write 2026-03, 2026-Q1, 2026-W09, 2026-03-15 or FY2026",
         _("{problem}; write 2026-03, 2026-Q1, 2026-W09, 2026-03-15 or FY2026")),
        (r"(?P<problem>.*); write 2026-03, 2026-Q1, 2026-W09 or 2026-03-15",
         _("{problem}; write 2026-03, 2026-Q1, 2026-W09 or 2026-03-15")),
        (r"(?P<problem>.+); write (?P<some>[\w\-, ]+) or (?P<last>[\w\-]+)",
         _("{problem}; write {some} or {last}")),
        (r"'(?P<text>.*)' is not a period label", _("'{text}' is not a period label")),
        (r"no KPI '(?P<name>.*)' \(KPIs: (?P<names>.*)\)", _("no KPI '{name}' (KPIs: {names})")),
        (r"'(?P<name>.*)' is not a dimension of any dataset",
         _("'{name}' is not a dimension of any dataset")),
        (r"the CSV needs the columns (?P<names>.*)", _("the CSV needs the columns {names}")),
        (r"the row does not have as many values as the header",
         _("the row does not have as many values as the header")),
        (r"(?P<path>.*) is not UTF-8 text \(save it as CSV UTF-8\)",
         _("{path} is not UTF-8 text (save it as CSV UTF-8)")),
        # accounts (`tolok user`)
        (r"'(?P<email>.*)' is not an e-mail address", _("'{email}' is not an e-mail address")),
        (r"unknown role '(?P<role>.*)': use viewer, editor or admin",
         _("unknown role '{role}': use viewer, editor or admin")),
        (r"(?P<email>\S+) already has an account", _("{email} already has an account")),
        (r"no account for (?P<email>.*)", _("no account for {email}")),
        # files brought in (`tolok ingest`)
        (r"no dataset '(?P<name>.*)' \(datasets: (?P<names>.*)\)",
         _("no dataset '{name}' (datasets: {names})")),
        (r"'(?P<name>.*)' is a manual dataset: type its values in with tolok enter",
         _("'{name}' is a manual dataset: type its values in with tolok enter")),
        (r"1 bad row in (?P<file>.*); nothing was written \(--skip-bad-rows writes the good ones\)",
         _("1 bad row in {file}; nothing was written (--skip-bad-rows writes the good ones)")),
        (r"(?P<n>\d+) bad rows in (?P<file>.*); nothing was written "
         r"\(--skip-bad-rows writes the good ones\)",
         _("{n} bad rows in {file}; nothing was written (--skip-bad-rows writes the good ones)")),
        (r"cannot read (?P<path>[^:]*): use CSV, Parquet, .xlsx or JSON lines",
         _("cannot read {path}: use CSV, Parquet, .xlsx or JSON lines")),
        (r"cannot read (?P<path>[^:]*): (?P<problem>.*)", _("cannot read {path}: {problem}")),
        # a row's problem
        (r"no such column in the table", _("no such column in the table")),
        (r"is empty, and every row needs it", _("is empty, and every row needs it")),
        (r"could not convert string to float: '(?P<value>.*)'", _("'{value}' is not a number")),
        (r"more values than the header has columns", _("more values than the header has columns")),
        (r"is a list or an object, not a single value",
         _("is a list or an object, not a single value")),
        (r"'(?P<value>.*)' is not a finite number", _("'{value}' is not a finite number")),
        (r"'(?P<value>.*)' is not a whole number", _("'{value}' is not a whole number")),
        (r"'(?P<value>.*)' is too large a number", _("'{value}' is too large a number")),
        (r"'(?P<value>.*)' is not true or false", _("'{value}' is not true or false")),
        (r"'(?P<value>.*)' is not a date and time \(write 2026-03-15T08:30:00\)",
         _("'{value}' is not a date and time (write 2026-03-15T08:30:00)")),
        (r"'(?P<value>.*)' is outside the years (?P<first>\d+)-(?P<last>\d+)",
         _("'{value}' is outside the years {first}-{last}")),
        (r"same key \((?P<key>.*)\) as lines? (?P<lines>.*), but other values: keep one of them",
         _("same key ({key}) as line {lines}, but other values: keep one of them")),
        # a template added to the project (`tolok catalog add`)
        (r"the project already has a KPI named (?P<name>.*): pick --name",
         _("the project already has a KPI named {name}: pick --name")),
        (r"no goal named (?P<name>.*) \(goals: (?P<names>.*)\)",
         _("no goal named {name} (goals: {names})")),
        (r"no dataset named (?P<name>.*) \(datasets: (?P<names>.*)\)",
         _("no dataset named {name} (datasets: {names})")),
        (r"(?P<name>\S+) reads (?P<n>\d+) tables \((?P<roles>.*)\): say which dataset is which, "
         r"e\.g\. (?P<example>.*)",
         _("{name} reads {n} tables ({roles}): say which dataset is which, e.g. {example}")),
        (r"(?P<name>\S+) needs a dataset for (?P<roles>.*): (?P<example>--dataset .*)",
         _("{name} needs a dataset for {roles}: {example}")),
        (r"(?P<name>\S+) has no table (?P<role>.*); its tables: (?P<roles>.*)",
         _("{name} has no table {role}; its tables: {roles}")),
        (r"(?P<name>\S+) has no input column (?P<column>.*); its columns: (?P<columns>.*)",
         _("{name} has no input column {column}; its columns: {columns}")),
        (r"dataset (?P<dataset>.*) has no `time:` column, which (?P<name>\S+) needs for its "
         r"(?P<role>\S+) rows",
         _("dataset {dataset} has no `time:` column, which {name} needs for its {role} rows")),
        (r"measure name (?P<name>.*) is taken: pick another --name",
         _("measure name {name} is taken: pick another --name")),
        # the store
        (r"cannot open the store (?P<url>\S+): (?P<problem>.*)",
         _("cannot open the store {url}: {problem}")),
    ]  # fmt: skip


@cache
def _compiled() -> list[re.Pattern[str]]:
    return [re.compile(pattern, re.DOTALL) for pattern, _ in _shapes(lambda text: text)]


def said_in(message: str, _: Words) -> str:
    """`message` in the language of `_`, when the terminal knows its shape; else as it is.
    In English it is always as it came: the sentence was written in English."""
    if _(PROBE) == PROBE:
        return message
    for pattern, (_english, wording) in zip(_compiled(), _shapes(_), strict=True):
        found = pattern.fullmatch(message)
        if found is None:
            continue
        values = dict(found.groupdict())
        for name, value in values.items():
            if name in INNER:
                values[name] = said_in(value, _)
            elif name in LISTS and value in ("none", "none yet"):
                values[name] = _("none")
        return wording.format(**values)
    return message


def error_text(message: str, _: Words) -> str:
    """`error: …` (`galat: …`), the message said in the terminal's language."""
    return _("error: {problem}", problem=said_in(message, _))


def row_problem(problem: RowProblem, _: Words) -> str:
    """A bad row of a file: `baris 5: kolom 'amount': 'abc' bukan angka`."""
    where = _("column '{column}': ", column=problem.column) if problem.column else ""
    return _("line {line}: ", line=problem.line) + where + said_in(problem.described(), _)

"""TLK134: a level (MRR, a balance, headcount, stock) added up over time.

A level is what there is at a moment; a quarter's MRR is not the sum of its months' MRR.
The rule reads column names only, so it looks for words that name a level and steps back
from any name that also says it is a movement (`new_mrr`, `churned_mrr`, `stock_in`,
`balance_change`): those are flows and add up.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from tolok.lint.finding import Finding, Level, Say
from tolok.lint.rules import RULES, Context, rule
from tolok.spec.formula import FormulaError, Name, parse_formula
from tolok.spec.models import Agg, Dataset, Measure, OverTime

# Words that name a level on their own, and pairs of words that do together.
_LEVEL_WORDS = frozenset(
    {
        "mrr", "arr", "balance", "balances", "headcount", "stock", "inventory",
        "backlog", "subscribers", "seats", "assets", "liabilities", "receivables",
        "payables",
    }
)  # fmt: skip
_LEVEL_PAIRS = frozenset(
    {
        ("head", "count"), ("on", "hand"), ("open", "tickets"),
        ("active", "subscriptions"), ("active", "customers"), ("paying", "customers"),
    }
)  # fmt: skip
# Words that make a name a movement of a level: it adds up over time.
_FLOW_WORDS = frozenset(
    {
        "new", "added", "adds", "gained", "expansion", "upgrade", "upgrades",
        "contraction", "downgrade", "downgrades", "churn", "churned", "lost", "loss",
        "reactivation", "reactivated", "change", "changes", "delta", "diff", "net",
        "movement", "movements", "in", "out", "inflow", "outflow", "received", "sold",
        "shipped", "purchased", "bought", "issued", "returned", "adjustment",
        "adjustments", "transfer", "transfers", "depreciation", "increase", "decrease",
        "growth", "written", "writeoff", "writeoffs",
    }
)  # fmt: skip


def words(name: str) -> list[str]:
    """The words of a column name, lower case: `endMRR`, `end_mrr` -> ['end', 'mrr']."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [w.lower() for w in re.split(r"[^A-Za-z0-9]+", spaced) if w]


def looks_like_level(name: str) -> bool:
    """Whether a column's name says it holds a level and not a movement of one.

    >>> [looks_like_level(n) for n in ("end_mrr", "closing_balance", "new_mrr", "stock_in")]
    [True, True, False, False]
    """
    found = words(name)
    if _FLOW_WORDS.intersection(found):
        return False
    pairs = set(itertools.pairwise(found))
    return bool(_LEVEL_WORDS.intersection(found) or _LEVEL_PAIRS & pairs)


def summed_level(name: str, measure: Measure) -> str | None:
    """The column named like a level that a measure adds up over time, if it does: a flow
    `sum` (no `over_time`) of one column as it is (`expr`, or the measure's own name)."""
    if measure.agg is not Agg.sum or measure.over_time is not OverTime.sum:
        return None
    if "over_time" in measure.model_fields_set:
        return None  # `over_time: sum` written out: added up on purpose
    try:
        tree = parse_formula(measure.expr or name)
    except FormulaError:
        return None
    if isinstance(tree, Name) and looks_like_level(tree.name):
        return tree.name
    return None


def _entity(dataset: Dataset) -> list[str]:
    """The key's columns besides time: the dataset has one row per those and period."""
    if dataset.time is None or dataset.time not in dataset.key:
        return []
    return [column for column in dataset.key if column != dataset.time]


@rule("TLK134", "summed-level", "correct", Level.warning,
      "A level is not added up over time",
      "Level tidak dijumlahkan sepanjang waktu")  # fmt: skip
def level_added_up(ctx: Context) -> Iterator[Finding]:
    for dataset, spec in ctx.project.datasets.items():
        for name, measure in spec.measures.items():
            column = summed_level(name, measure)
            if column is None:
                continue
            part = "expr" if measure.expr is not None else "agg"
            yield Finding(
                RULES["TLK134"][0],
                Say(
                    f"measure {dataset}.{name} adds up {column} over time, but {column} looks "
                    "like a level (what there is at a moment): a quarter would show the sum "
                    "of its months",
                    f"ukuran {dataset}.{name} menjumlahkan {column} sepanjang waktu, padahal "
                    f"{column} tampaknya sebuah level (jumlah pada satu saat): satu kuartal "
                    "akan menampilkan jumlah bulan-bulannya",
                ),
                _fix(name, column, spec),
                ctx.at("datasets", dataset, "measures", name, part),
                f"dataset:{dataset}",
            )


_START_WORDS = frozenset({"start", "starting", "opening", "begin", "beginning", "initial"})


def _fix(name: str, column: str, dataset: Dataset) -> Say:
    """Add `over_time`: `first` for a level named at the start (`start_mrr`), else `last`."""
    if _START_WORDS.intersection(words(column)):
        how, other, when, saat, baris = "first", "last", "start", "awal", "pertama"
    else:
        how, other, when, saat, baris = "last", "first", "end", "akhir", "terakhir"
    en = (
        f"add `over_time: {how}` to {name} to read it at the {when} of each period "
        f"(or `{other}`, or `average` over its days)"
    )
    id_ = (
        f"tambahkan `over_time: {how}` pada {name} agar dibaca di {saat} setiap periode "
        f"(atau `{other}`, atau `average` atas hari-harinya)"
    )
    entity = _entity(dataset)
    if entity:
        who, keys = ", ".join(entity), ", ".join(dataset.key)
        en += f"; with key [{keys}] each {who}'s {how} row in the period counts"
        id_ += f"; dengan key [{keys}] yang dihitung adalah baris {baris} tiap {who} dalam periode"
    return Say(en, id_)

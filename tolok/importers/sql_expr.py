"""SQL expressions of a dbt project (a measure's `expr`, a dimension's, a metric's
`filter`) said in tolok's expression language, read with a real SQL parser (sqlglot).

Only what means the same in both is translated: columns, literals, arithmetic,
comparisons, `AND`/`OR`/`NOT`, `IN`, `IS [NOT] NULL`, `CASE`, `COALESCE`, `ABS`, `LOWER`,
`UPPER`, and casts (tolok applies the declared types itself). Anything else raises
`TranslationError` naming the part that has no translation, never a guess.

    >>> to_tolok("case when amount > 100 then 'large' else 'small' end")
    "case(amount > 100, 'large', 'small')"
    >>> to_tolok("status = 'paid' and coupon is not null")
    "status == 'paid' and not is_null(coupon)"
"""

from __future__ import annotations

import re
from collections.abc import Callable

import sqlglot
import sqlglot.expressions as exp

from tolok.spec.formula import quote_name
from tolok.spec.problems import Text, say

_BINARY: dict[type[exp.Expr], str] = {
    exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/",
    exp.EQ: "==", exp.NEQ: "!=", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<=",
    exp.And: "and", exp.Or: "or",
}  # fmt: skip
_FUNCTIONS: dict[type[exp.Expr], str] = {
    exp.Abs: "abs", exp.Lower: "lower", exp.Upper: "upper",
}  # fmt: skip


class TranslationError(ValueError):
    """A part of an SQL expression with no counterpart in tolok's language."""

    def __init__(self, said: Text) -> None:
        super().__init__(str(said))
        self.said = said


def to_tolok(sql: str, dialect: str = "duckdb", columns: dict[str, str] | None = None) -> str:
    """`sql` in tolok's language; `columns` renames (a dimension's name to its column)."""
    try:
        tree: exp.Expr = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.ParseError as exc:
        raise TranslationError(
            say("cannot read '{sql}' as SQL: {problem}", sql=sql, problem=str(exc).splitlines()[0])
        ) from None
    try:
        return _said(tree, columns or {})
    except _CounterpartError as exc:  # named as the project writes it, not as sqlglot would
        raise TranslationError(exc.said(exc.node.sql(dialect=dialect))) from None


class _CounterpartError(Exception):
    def __init__(self, node: exp.Expr, said: Callable[[str], Text]) -> None:
        self.node, self.said = node, said


def _said(node: exp.Expr, columns: dict[str, str]) -> str:
    if isinstance(node, exp.Paren):
        return f"({_said(node.this, columns)})"
    if isinstance(node, exp.Column):
        if node.table:
            raise _CounterpartError(
                node,
                lambda sql: say("'{sql}' names a table: tolok reads one dataset's rows", sql=sql),
            )
        name = node.name
        return quote_name(columns.get(name, name))
    if isinstance(node, exp.Literal):
        if node.is_string:
            text = str(node.this)
            return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return str(node.this)
    if isinstance(node, exp.Boolean):
        return "True" if node.this else "False"
    if isinstance(node, exp.Neg):
        return f"-{_said(node.this, columns)}"
    if isinstance(node, exp.Not):
        inner = node.this
        if isinstance(inner, exp.Is) and isinstance(inner.expression, exp.Null):
            return f"not is_null({_said(inner.this, columns)})"
        return f"not {_said(inner, columns)}"
    if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
        return f"is_null({_said(node.this, columns)})"
    if type(node) in _BINARY and isinstance(node, exp.Binary):
        left, right = _said(node.left, columns), _said(node.right, columns)
        return f"{left} {_BINARY[type(node)]} {right}"
    if isinstance(node, exp.In) and node.expressions:
        values = ", ".join(_said(v, columns) for v in node.expressions)
        return f"{_said(node.this, columns)} in ({values})"
    if isinstance(node, exp.Case):
        return _case(node, columns)
    if isinstance(node, exp.If):
        parts = [node.this, node.args["true"], node.args.get("false")]
        return "case(" + ", ".join(_said(p, columns) for p in parts if p is not None) + ")"
    if isinstance(node, exp.Coalesce):
        arguments = [node.this, *node.expressions]
        return "coalesce(" + ", ".join(_said(a, columns) for a in arguments) + ")"
    if type(node) in _FUNCTIONS:
        return f"{_FUNCTIONS[type(node)]}({_said(node.this, columns)})"
    if isinstance(node, exp.Cast | exp.TryCast):
        return _said(node.this, columns)
    raise _CounterpartError(
        node, lambda sql: say("'{sql}' has no translation in tolok's expressions", sql=sql)
    )


def _case(node: exp.Case, columns: dict[str, str]) -> str:
    if node.this is not None:  # CASE x WHEN 1 THEN … : each WHEN compares with x
        subject = _said(node.this, columns)
        pairs = [
            (f"{subject} == {_said(w.this, columns)}", w.args["true"]) for w in node.args["ifs"]
        ]
    else:
        pairs = [(_said(w.this, columns), w.args["true"]) for w in node.args["ifs"]]
    parts = [f"{condition}, {_said(value, columns)}" for condition, value in pairs]
    default = node.args.get("default")
    if default is not None:
        parts.append(_said(default, columns))
    return "case(" + ", ".join(parts) + ")"


_JINJA = re.compile(
    r"\{\{\s*(Dimension|TimeDimension|Entity)\(\s*'([^']+)'(?:\s*,\s*'[^']*')?\s*\)\s*\}\}"
)


def unjinja(text: str, columns: dict[str, str]) -> str:
    """A MetricFlow filter's `{{ Dimension('order__region') }}` as the column it reads
    (`columns` by dimension or entity name, the part after the entity path's last `__`).
    Raises TranslationError for a name it does not know (a dimension of another model)."""

    def column(found: re.Match[str]) -> str:
        name = found.group(2).rsplit("__", 1)[-1]
        if name not in columns:
            raise TranslationError(
                say("{name}: no such dimension in this semantic model", name=found.group(0))
            )
        return '"' + columns[name].replace('"', '""') + '"'

    return _JINJA.sub(column, text)

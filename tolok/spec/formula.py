"""The formula language: one parser for KPI formulas, measure `expr` and `where`.

Formulas are read with Python's own parser (`ast`) and then translated, node by node,
into the small tree below. Only the node kinds listed here exist; anything else Python
would accept (attribute access, lambdas, comprehensions, indexing, f-strings, ...) is
an error that points at the offending characters. Nothing is ever evaluated.

Quoting rule for column names: a name that is not a plain identifier (spaces,
punctuation, a leading digit, ...) is written between backticks, as in SQL dialects
that use them: `` `Jumlah (Rp)` * 1000 ``, `` `Order Date` >= '2025-01-01' ``.
A backtick inside a name is doubled. Fields that hold nothing but one column name
(`time`, `dimensions`, `columns`) take the name as it is; backticks there are optional.

>>> parse_formula("revenue / `Order Count`").op
'/'
"""

from __future__ import annotations

import ast
import functools
import keyword
import math
import re
import warnings
from dataclasses import dataclass

from tolok.spec.problems import Text, say

MAX_LENGTH = 2000
MAX_DEPTH = 60
MAX_INTEGER = 2**63 - 1
"""The largest whole number a formula may write: what every warehouse holds as an integer
(a 64-bit one). A bigger number is written with an exponent (`1e20`), as a decimal."""
_PLACEHOLDER = "__q{}__"


@dataclass(frozen=True)
class Span:
    """Character offsets `[start, end)` of a node in the formula text as written."""

    start: int
    end: int


class FormulaError(Exception):
    """A formula that cannot be read or does not make sense, with the place to blame."""

    def __init__(
        self, message: Text | str, span: Span, hint: Text | str | None = None, code: str = "TLK010"
    ):
        self.text = message if isinstance(message, Text) else Text.plain(message)
        self.hint_text = hint if isinstance(hint, Text) or hint is None else Text.plain(hint)
        super().__init__(str(self.text))
        self.message = str(self.text)  # in English, for logs and the compile layer
        self.span = span
        self.hint = None if self.hint_text is None else str(self.hint_text)
        self.code = code


@dataclass(frozen=True)
class Number:
    value: int | float
    span: Span


@dataclass(frozen=True)
class String:
    value: str
    span: Span


@dataclass(frozen=True)
class Boolean:
    value: bool
    span: Span


@dataclass(frozen=True)
class Null:
    span: Span


@dataclass(frozen=True)
class Name:
    """A measure, KPI or column; `qualifier` is the dataset in `orders.revenue`."""

    name: str
    span: Span
    qualifier: str | None = None
    quoted: bool = False


@dataclass(frozen=True)
class Unary:
    op: str  # "-", "+", "not"
    operand: Node
    span: Span


@dataclass(frozen=True)
class Binary:
    op: str  # "+", "-", "*", "/"
    left: Node
    right: Node
    span: Span


@dataclass(frozen=True)
class Logical:
    op: str  # "and", "or"
    operands: tuple[Node, ...]
    span: Span


@dataclass(frozen=True)
class Compare:
    op: str  # "==", "!=", "<", "<=", ">", ">=", "in", "not in"
    left: Node
    right: Node
    span: Span


@dataclass(frozen=True)
class Items:
    """The literal list on the right of `in`: `region in ('Bali', 'Jawa Barat')`."""

    items: tuple[Node, ...]
    span: Span


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple[Node, ...]
    span: Span
    func_span: Span


Node = Number | String | Boolean | Null | Name | Unary | Binary | Logical | Compare | Items | Call

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_UNARY = {ast.USub: "-", ast.UAdd: "+", ast.Not: "not"}
_COMPARE = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
}
_DESCRIBE: dict[type, Text] = {
    ast.Attribute: say("attribute access"),
    ast.Subscript: say("indexing"),
    ast.Lambda: say("a lambda"),
    ast.ListComp: say("a comprehension"),
    ast.SetComp: say("a comprehension"),
    ast.DictComp: say("a comprehension"),
    ast.GeneratorExp: say("a comprehension"),
    ast.Dict: say("a dictionary"),
    ast.Set: say("a set"),
    ast.JoinedStr: say("an f-string"),
    ast.IfExp: say("an inline if (use case(...))"),
    ast.NamedExpr: say("an assignment"),
    ast.Starred: say("a starred argument"),
    ast.Await: say("await"),
    ast.Yield: say("yield"),
    ast.YieldFrom: say("yield"),
    ast.Slice: say("a slice"),
    ast.Tuple: say("a list outside of `in`"),
    ast.List: say("a list outside of `in`"),
}
_OPERATOR_HINTS: dict[type, Text] = {
    ast.Pow: say("'**' (multiply instead, or ask for a function)"),
    ast.FloorDiv: say("'//' (use '/')"),
    ast.Mod: say("'%'"),
    ast.MatMult: say("'@'"),
    ast.BitAnd: say("'&' (use 'and')"),
    ast.BitOr: say("'|' (use 'or')"),
    ast.BitXor: say("'^'"),
    ast.LShift: say("'<<'"),
    ast.RShift: say("'>>'"),
    ast.Invert: say("'~' (use 'not')"),
    ast.Is: say("'is' (use '==' or is_null(x))"),
    ast.IsNot: say("'is not' (use '!=' or not is_null(x))"),
}


@dataclass(frozen=True)
class _Prepared:
    """The formula rewritten for Python's parser, and where each character came from."""

    source: str
    origin: tuple[int, ...]  # origin[i] = offset in the original text of source[i]
    quoted: tuple[str, ...]  # column names that were written in backticks, by placeholder


@functools.lru_cache(maxsize=4096)
def parse_formula(text: str) -> Node:
    """Parse a formula into a tree, or raise `FormulaError` pointing at the problem.

    Never evaluates anything and never raises anything but `FormulaError`. Trees are
    immutable, so each text is parsed once: loading, planning, compiling and versioning
    a project ask for the same formulas and filters dozens of times.
    """
    if len(text) > MAX_LENGTH:
        raise FormulaError(
            say(
                "formula is too long ({n} characters; at most {most})", n=len(text), most=MAX_LENGTH
            ),
            Span(MAX_LENGTH, len(text)),
            say("split it into several KPIs or measures"),
        )
    if not text.strip():
        raise FormulaError(
            say("formula is empty"), Span(0, max(len(text), 1)), say("write an expression")
        )
    prepared = _prepare(text)
    try:
        with warnings.catch_warnings():
            # Python's own warnings (odd escapes, "1if") are about Python, not formulas.
            warnings.simplefilter("ignore")
            tree = ast.parse(prepared.source, mode="eval")
    except SyntaxError as exc:
        raise _syntax_error(exc, prepared, text) from None
    except (ValueError, RecursionError, MemoryError, OverflowError):
        raise FormulaError(say("formula cannot be read"), Span(0, len(text))) from None
    return _Converter(prepared, text).convert(tree.body, 0)


def _prepare(text: str) -> _Prepared:
    """Replace backtick-quoted names by placeholders and line breaks by spaces.

    Tracks quotes so that a backtick inside a text literal is just a character, and
    bounds bracket nesting before Python's parser sees the text.
    """
    out: list[str] = []
    origin: list[int] = []
    quoted: list[str] = []
    depth = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "'\"":
            end = _string_end(text, i)
            out.append(text[i:end])
            origin.extend(range(i, end))
            i = end
        elif ch == "`":
            name, end = _backtick_name(text, i)
            placeholder = _PLACEHOLDER.format(len(quoted))
            quoted.append(name)
            out.append(placeholder)
            origin.extend([i] * (len(placeholder) - 1) + [end - 1])
            i = end
        else:
            if ch in "([{":
                depth += 1
                if depth > MAX_DEPTH // 2:
                    raise FormulaError(say("formula is nested too deeply"), Span(i, i + 1))
            elif ch in ")]}":
                depth -= 1
            out.append(" " if ch in "\r\n\t" else ch)
            origin.append(i)
            i += 1
    origin.append(len(text))
    return _Prepared("".join(out), tuple(origin), tuple(quoted))


def _string_end(text: str, start: int) -> int:
    quote = text[start]
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] in "\r\n":
            raise FormulaError(
                say("text value runs past the end of the line"),
                Span(start, i),
                say("close it with {quote} on the same line", quote=quote),
            )
        if text[i] == quote:
            return i + 1
        i += 1
    raise FormulaError(
        say("text value is never closed"),
        Span(start, len(text)),
        say("add the closing {quote}", quote=quote),
    )


def _backtick_name(text: str, start: int) -> tuple[str, int]:
    i = start + 1
    name: list[str] = []
    while i < len(text):
        if text[i] == "`":
            if text[i + 1 : i + 2] == "`":
                name.append("`")
                i += 2
                continue
            if not name:
                raise FormulaError(
                    say("empty column name ``"),
                    Span(start, i + 1),
                    say("write the name between backticks"),
                )
            return "".join(name), i + 1
        if text[i] in "\r\n":
            break
        name.append(text[i])
        i += 1
    raise FormulaError(
        say("column name in backticks is never closed"),
        Span(start, i),
        say("add the closing backtick `"),
    )


def _syntax_error(exc: SyntaxError, prepared: _Prepared, text: str) -> FormulaError:
    # SyntaxError.offset is 1-based and counts characters of the (single) line;
    # 0 means Python ran out of input.
    said = (exc.msg or "invalid syntax").rstrip(".")
    if said.startswith("invalid syntax. Perhaps"):
        said = "invalid syntax"
    reason = _reason(said)
    if not exc.offset:
        return FormulaError(
            say("formula ends too early"),
            Span(len(text), len(text) + 1),
            say("complete the expression"),
        )
    offset = exc.offset - 1
    end_offset = max((exc.end_offset or 0) - 1, offset + 1)
    start = _origin_at(prepared, offset)
    end = max(_origin_at(prepared, end_offset), start + 1)
    if start >= len(text):
        return FormulaError(
            say("formula ends too early ({reason})", reason=reason), Span(len(text), len(text) + 1)
        )
    return FormulaError(
        say("cannot read the formula here: {reason}", reason=reason),
        Span(start, min(end, len(text))),
    )


def _reason(said: str) -> Text:
    """Python's words for a syntax error, in words tolok translates where it knows them."""
    never = re.fullmatch(r"'(.)' was never closed", said)
    unmatched = re.fullmatch(r"unmatched '(.)'", said)
    if never:
        return say("'{bracket}' was never closed", bracket=never.group(1))
    if unmatched:
        return say("unmatched '{bracket}'", bracket=unmatched.group(1))
    if said == "invalid syntax":
        return say("invalid syntax")
    return Text.plain(said)


def _origin_at(prepared: _Prepared, index: int) -> int:
    return prepared.origin[min(index, len(prepared.origin) - 1)]


class _Converter:
    """Translates Python's tree into ours, rejecting every node kind not listed."""

    def __init__(self, prepared: _Prepared, text: str) -> None:
        self.prepared = prepared
        self.text = text
        encoded = prepared.source.encode("utf-8")
        self._char_at_byte = _byte_to_char_table(prepared.source, len(encoded))

    def span(self, node: ast.AST) -> Span:
        start_b = getattr(node, "col_offset", 0)
        end_b = getattr(node, "end_col_offset", None) or start_b + 1
        start = self.prepared.origin[self._char_at_byte[start_b]]
        end = self.prepared.origin[self._char_at_byte[end_b]]
        return Span(start, max(end, start + 1))

    def convert(self, node: ast.expr, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise FormulaError(say("formula is nested too deeply"), self.span(node))
        span = self.span(node)
        below = depth + 1
        match node:
            case ast.Constant(value=value):
                return self._constant(value, span)
            case ast.Name(id=ident):
                return self._name(ident, span)
            case ast.Attribute(value=ast.Name(id=qualifier), attr=attr):
                return self._qualified(qualifier, attr, span)
            case ast.BinOp(left=left, op=op, right=right) if type(op) in _BINARY:
                return Binary(
                    _BINARY[type(op)], self.convert(left, below), self.convert(right, below), span
                )
            case ast.BinOp(op=op):
                raise self._operator_error(op, node)
            case ast.UnaryOp(op=op, operand=operand) if type(op) in _UNARY:
                return Unary(_UNARY[type(op)], self.convert(operand, below), span)
            case ast.UnaryOp(op=op):
                raise self._operator_error(op, node)
            case ast.BoolOp(op=op, values=values):
                word = "and" if isinstance(op, ast.And) else "or"
                return Logical(word, tuple(self.convert(v, below) for v in values), span)
            case ast.Compare():
                return self._compare(node, below)
            case ast.Call():
                return self._call(node, below)
        kind = _DESCRIBE.get(type(node), Text.plain(type(node).__name__))
        raise FormulaError(say("{kind} is not allowed in a formula", kind=kind), span)

    def _constant(self, value: object, span: Span) -> Node:
        if isinstance(value, bool):
            return Boolean(value, span)
        if value is None:
            return Null(span)
        if isinstance(value, int | float):
            return Number(_bounded(value, span), span)
        if isinstance(value, str):
            return String(value, span)
        raise FormulaError(
            say("{kind} values are not allowed in a formula", kind=type(value).__name__), span
        )

    def _name(self, ident: str, span: Span) -> Name:
        if ident.startswith("__q") and ident.endswith("__") and ident[3:-2].isdigit():
            return Name(self.prepared.quoted[int(ident[3:-2])], span, quoted=True)
        if ident.startswith("__"):
            raise FormulaError(
                say("names starting with '__' are not allowed"),
                span,
                say("rename the column or measure"),
            )
        return Name(ident, span)

    def _qualified(self, qualifier: str, attr: str, span: Span) -> Name:
        left = self._name(qualifier, span)
        right = self._name(attr, span)
        return Name(right.name, span, qualifier=left.name, quoted=right.quoted)

    def _compare(self, node: ast.Compare, depth: int) -> Node:
        parts: list[Node] = []
        left_ast = node.left
        left = self.convert(left_ast, depth)
        for op, right_ast in zip(node.ops, node.comparators, strict=True):
            if type(op) not in _COMPARE:
                raise self._operator_error(op, node)
            symbol = _COMPARE[type(op)]
            if symbol in ("in", "not in"):
                right: Node = self._items(right_ast, depth)
            else:
                right = self.convert(right_ast, depth)
            span = Span(self.span(left_ast).start, self.span(right_ast).end)
            parts.append(Compare(symbol, left, right, span))
            left_ast, left = right_ast, right
        if len(parts) == 1:
            return parts[0]
        return Logical("and", tuple(parts), self.span(node))

    def _items(self, node: ast.expr, depth: int) -> Items:
        if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float):
            # `region in ('Bali')`: Python reads one value in brackets as no list at all.
            return Items((self.convert(node, depth + 1),), self.span(node))
        if not isinstance(node, ast.Tuple | ast.List):
            raise FormulaError(
                say("`in` needs a list of values on its right"),
                self.span(node),
                say("write it as region in ('Bali', 'Jawa Barat')"),
            )
        return Items(tuple(self.convert(e, depth + 1) for e in node.elts), self.span(node))

    def _call(self, node: ast.Call, depth: int) -> Call:
        if not isinstance(node.func, ast.Name):
            raise FormulaError(
                say("only the functions of the formula language can be called"),
                self.span(node.func),
            )
        if node.keywords:
            raise FormulaError(
                say("named arguments are not supported"),
                self.span(node.keywords[0].value),
                say("pass the arguments by position, e.g. rolling(revenue, 3, 'avg')"),
            )
        func = self._name(node.func.id, self.span(node.func))
        args = tuple(self.convert(a, depth) for a in node.args)
        return Call(func.name, args, self.span(node), self.span(node.func))

    def _operator_error(self, op: ast.AST, node: ast.AST) -> FormulaError:
        what = _OPERATOR_HINTS.get(type(op), Text.plain(type(op).__name__))
        return FormulaError(
            say("the operator {what} is not allowed in a formula", what=what), self.span(node)
        )


def _bounded(value: int | float, span: Span) -> int | float:
    """A number literal every engine holds: a whole number within 64 bits, a decimal that
    is finite (`1e999` reads as infinity). A 400-digit literal passed validation once, then
    failed every KPI of the refresh when it met a float."""
    if isinstance(value, int) and abs(value) > MAX_INTEGER:
        raise FormulaError(
            say(
                "the number {number} is too large (whole numbers go up to {most})",
                number=_shortened(str(value)),
                most=MAX_INTEGER,
            ),
            span,
            say("write a large number with an exponent, e.g. 1e20"),
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise FormulaError(
            say("the number is too large (decimals go up to about 1.8e308)"),
            span,
            say("use a smaller number"),
        )
    return value


def _shortened(digits: str) -> str:
    return digits if len(digits) <= 20 else f"{digits[:8]}…{digits[-4:]} ({len(digits)} digits)"


def _byte_to_char_table(source: str, n_bytes: int) -> list[int]:
    """Python's tree gives UTF-8 byte offsets; map each byte offset to a character."""
    table = [0] * (n_bytes + 1)
    byte = 0
    for index, ch in enumerate(source):
        width = len(ch.encode("utf-8"))
        for k in range(width):
            table[byte + k] = index
        byte += width
    table[n_bytes] = len(source)
    return table


def walk(node: Node) -> list[Node]:
    """Every node of a tree, parents before children."""
    out: list[Node] = []
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(reversed(children(current)))
    return out


def children(node: Node) -> tuple[Node, ...]:
    match node:
        case Unary(operand=operand):
            return (operand,)
        case Binary(left=left, right=right) | Compare(left=left, right=right):
            return (left, right)
        case Logical(operands=operands):
            return operands
        case Items(items=items):
            return items
        case Call(args=args):
            return args
    return ()


def quote_name(name: str) -> str:
    """Write a column name so that a formula reads it back: `` `Order Date` ``."""
    if name.isidentifier() and not name.startswith("__") and not keyword.iskeyword(name):
        return name
    return "`" + name.replace("`", "``") + "`"


def unquote_column(text: str) -> str:
    """A column name from a field that holds only a name; backticks there are optional."""
    stripped = text.strip()
    if len(stripped) >= 3 and stripped[0] == stripped[-1] == "`":
        return stripped[1:-1].replace("``", "`")
    return text


def rename(text: str, names: dict[str, str]) -> str:
    """The formula with names replaced, quoting them where needed: `{"amount": "Total"}`.

    A replacement may be an expression (`{"cost": "Sales - Profit"}`), put in parentheses;
    one that does not read as a formula (`Order Date`) is a column name. Only unqualified
    names are replaced; strings, functions and the rest stay as written.
    """
    spans = [
        (node.span, _replacement(names[node.name]))
        for node in walk(parse_formula(text))
        if isinstance(node, Name) and node.qualifier is None and node.name in names
    ]
    for span, new in sorted(spans, key=lambda item: item[0].start, reverse=True):
        text = text[: span.start] + new + text[span.end :]
    return text


def _replacement(value: str) -> str:
    try:
        tree = parse_formula(value)
    except FormulaError:
        return quote_name(value.strip())
    if isinstance(tree, Name):
        return value.strip() if tree.quoted or tree.qualifier else quote_name(tree.name)
    return f"({value.strip()})"

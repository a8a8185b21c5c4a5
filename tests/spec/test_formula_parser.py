"""The formula parser: what it reads, what it refuses, and that it never does anything else."""

from __future__ import annotations

import builtins
import os
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tolok.spec.formula import (
    MAX_LENGTH,
    Binary,
    Call,
    Compare,
    FormulaError,
    Items,
    Logical,
    Name,
    Node,
    Number,
    String,
    Unary,
    parse_formula,
    quote_name,
    unquote_column,
    walk,
)


def test_arithmetic_keeps_precedence() -> None:
    tree = parse_formula("100 * (promoters - detractors) / responses")
    assert isinstance(tree, Binary)
    assert tree.op == "/"
    assert isinstance(tree.left, Binary)
    assert tree.left.op == "*"
    inner = tree.left.right
    assert isinstance(inner, Binary)
    assert inner.op == "-"
    assert [n.name for n in walk(tree) if isinstance(n, Name)] == [
        "promoters",
        "detractors",
        "responses",
    ]


def test_backticks_quote_column_names_with_spaces_punctuation_and_non_ascii() -> None:
    text = "`Jumlah (Rp)` - `Diskon ``Rp``` + harga_ñ"
    tree = parse_formula(text)
    names = [n for n in walk(tree) if isinstance(n, Name)]
    assert [(n.name, n.quoted) for n in names] == [
        ("Jumlah (Rp)", True),
        ("Diskon `Rp`", True),
        ("harga_ñ", False),
    ]
    # Spans point at the text as written, backticks included.
    assert [text[n.span.start : n.span.end] for n in names] == [
        "`Jumlah (Rp)`",
        "`Diskon ``Rp```",
        "harga_ñ",
    ]


def test_spans_count_characters_not_bytes() -> None:
    text = "'Jawa Timur—Surabaya' == wilayah_é and bogus("
    with pytest.raises(FormulaError) as caught:
        parse_formula(text)
    assert caught.value.message == "cannot read the formula here: '(' was never closed"
    assert text[caught.value.span.start : caught.value.span.end] == "("
    tree = parse_formula("'é' == wilayah_é")
    assert isinstance(tree, Compare)
    right = tree.right
    assert "'é' == wilayah_é"[right.span.start : right.span.end] == "wilayah_é"


def test_qualified_measure_names() -> None:
    tree = parse_formula("orders.revenue / `web sessions`.visits")
    assert isinstance(tree, Binary)
    assert tree.left == Name("revenue", tree.left.span, qualifier="orders")
    assert isinstance(tree.right, Name)
    assert tree.right.qualifier == "web sessions"


def test_in_lists_not_and_chained_comparisons() -> None:
    tree = parse_formula("not region in ('Bali', 'NTB') and 0 < amount <= 10")
    assert isinstance(tree, Logical)
    assert tree.op == "and"
    negated, chained = tree.operands
    assert isinstance(negated, Unary)
    assert negated.op == "not"
    assert isinstance(negated.operand, Compare)
    assert isinstance(negated.operand.right, Items)
    assert [i.value for i in negated.operand.right.items if isinstance(i, String)] == [
        "Bali",
        "NTB",
    ]
    assert isinstance(chained, Logical)
    assert [c.op for c in chained.operands if isinstance(c, Compare)] == ["<", "<="]


def test_calls_and_literals() -> None:
    tree = parse_formula("rolling(revenue, 3, 'avg')")
    assert isinstance(tree, Call)
    assert tree.func == "rolling"
    assert isinstance(tree.args[1], Number)
    assert tree.args[1].value == 3
    assert isinstance(tree.args[2], String)
    assert tree.args[2].value == "avg"


def test_line_breaks_are_spaces() -> None:
    tree = parse_formula("revenue\n  - spend")
    assert isinstance(tree, Binary)
    assert tree.op == "-"


@pytest.mark.parametrize(
    ("text", "message", "marked"),
    [
        (
            "__import__('os').system('x')",
            "only the functions of the formula language can be called",
            "__import__('os').system",
        ),
        ("revenue.__class__", "names starting with '__' are not allowed", "revenue.__class__"),
        ("__builtins__", "names starting with '__' are not allowed", "__builtins__"),
        ("(lambda: 1)()", "only the functions of the formula language can be called", "lambda: 1"),
        ("lambda x: x", "a lambda is not allowed in a formula", "lambda x: x"),
        (
            "[x for x in orders]",
            "a comprehension is not allowed in a formula",
            "[x for x in orders]",
        ),
        ("sum(x for x in y)", "a comprehension is not allowed in a formula", "(x for x in y)"),
        (
            "orders.revenue.real",
            "attribute access is not allowed in a formula",
            "orders.revenue.real",
        ),
        ("revenue[0]", "indexing is not allowed in a formula", "revenue[0]"),
        ("{'a': 1}", "a dictionary is not allowed in a formula", "{'a': 1}"),
        ("f'{revenue}'", "an f-string is not allowed in a formula", "f'{revenue}'"),
        ("(x := 1)", "an assignment is not allowed in a formula", "x := 1"),
        (
            "revenue if x else y",
            "an inline if (use case(...)) is not allowed in a formula",
            "revenue if x else y",
        ),
        (
            "revenue ** 2",
            "the operator '**' (multiply instead, or ask for a function) is not "
            "allowed in a formula",
            "revenue ** 2",
        ),
        ("growth(revenue, n=2)", "named arguments are not supported", "2"),
        ("max(*revenue)", "a starred argument is not allowed in a formula", "*revenue"),
        ("revenue +", "formula ends too early", ""),
        ("revenue spend", "cannot read the formula here: invalid syntax", "spend"),
        ("'unclosed", "text value is never closed", "'unclosed"),
        ("`Order Date", "column name in backticks is never closed", "`Order Date"),
        ("``", "empty column name ``", "``"),
        ("", "formula is empty", ""),
        ("  \n ", "formula is empty", "  \n "),
        ("1j", "complex values are not allowed in a formula", "1j"),
        ("b'x'", "bytes values are not allowed in a formula", "b'x'"),
        ("(" * 40 + "x" + ")" * 40, "formula is nested too deeply", "("),
        ("a; b", "cannot read the formula here: invalid syntax", ";"),
    ],
)
def test_rejected(text: str, message: str, marked: str) -> None:
    with pytest.raises(FormulaError) as caught:
        parse_formula(text)
    error = caught.value
    assert error.message == message
    assert text[error.span.start : error.span.end] == marked


def test_length_is_bounded() -> None:
    with pytest.raises(FormulaError) as caught:
        parse_formula("a+" * MAX_LENGTH + "a")
    assert caught.value.message.startswith("formula is too long")


def test_long_flat_chains_are_refused_cleanly_not_by_recursion_error() -> None:
    for text in ("-" * 1500 + "x", "+".join(["a"] * 900), "not " * 450 + "x"):
        with pytest.raises(FormulaError) as caught:
            parse_formula(text)
        assert caught.value.message == "formula is nested too deeply"


def test_quote_name_round_trips() -> None:
    for name in ("revenue", "Order Date", "Jumlah (Rp)", "a`b", "2024 sales", "in", "harga_ñ"):
        tree = parse_formula(quote_name(name))
        assert isinstance(tree, Name)
        assert tree.name == name
        assert unquote_column(quote_name(name)) == name


FORMULA_ALPHABET = st.sampled_from(
    [
        *list("abcxyz_ 0123456789+-*/%()[]{}<>=!,.'\"`:;@#&|^~\\\n\té—"),
        "and",
        "or",
        "not",
        "in",
        "lambda",
        "import",
        "__",
        "__import__",
        "os",
        "for",
        "if",
    ]
)


@settings(max_examples=600, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gives_a_tree_or_a_clean_error(text: str) -> None:
    _parse_without_side_effects(text)


@settings(max_examples=600, deadline=None)
@given(st.lists(FORMULA_ALPHABET, max_size=60).map("".join))
def test_formula_like_text_gives_a_tree_or_a_clean_error(text: str) -> None:
    _parse_without_side_effects(text)


def _parse_without_side_effects(text: str) -> None:
    calls: list[str] = []
    originals: dict[str, Any] = {name: getattr(builtins, name) for name in ("eval", "exec")}
    originals_os = {"system": os.system}

    def trap(name: str) -> Any:
        def called(*args: object, **kwargs: object) -> None:
            calls.append(name)

        return called

    try:
        for name in originals:
            setattr(builtins, name, trap(name))
        os.system = trap("os.system")  # type: ignore[assignment]
        outcome = _outcome(text)
    finally:
        for name, original in originals.items():
            setattr(builtins, name, original)
        os.system = originals_os["system"]
    assert calls == []
    if isinstance(outcome, FormulaError):
        assert outcome.message
        assert 0 <= outcome.span.start <= len(text) + 1
        assert outcome.span.start < outcome.span.end
    else:
        assert walk(outcome)


def _outcome(text: str) -> Node | FormulaError:
    try:
        return parse_formula(text)
    except FormulaError as error:
        return error

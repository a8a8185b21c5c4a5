def test_rename_with_columns_and_expressions() -> None:
    from tolok.spec.formula import rename

    assert rename("sum_of(a) + b", {"a": "Order Date", "b": "c"}) == "sum_of(`Order Date`) + c"
    assert rename("a * 2", {"a": "Sales - Profit"}) == "(Sales - Profit) * 2"
    assert rename("a", {"a": "`Sales - Profit`"}) == "`Sales - Profit`"
    assert rename("a == 'a'", {"a": "kind"}) == "kind == 'a'"  # strings stay as written

"""Spec → Ibis expressions: periods, row expressions, measures; KPI formulas over results.

Knows no backend by name beyond the capability table in `dialect.py`.
"""

"""The KPI linter: advice on what makes a KPI good (aligned, actionable, realistic, specific,
clear, focused, correct, fresh). Pure: it reads a loaded spec and facts handed to it."""

from tolok.lint.finding import Facts, Finding, KpiFacts, Level
from tolok.lint.run import RULES, lint

__all__ = ["RULES", "Facts", "Finding", "KpiFacts", "Level", "lint"]

"""Findings as text (like a compiler), JSON, or SARIF 2.1.0 for code review tools."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import tolok
from tolok.lint.finding import Finding, Level
from tolok.lint.rules import RULES

_SUMMARY = {
    "en": ("{n} {findings}: {e} {errors}, {w} {warnings}, {o} {notes}", "no findings"),
    "id": ("{n} temuan: {e} galat, {w} peringatan, {o} catatan", "tidak ada temuan"),
}
_NOUNS = {"findings": ("n", "finding"), "errors": ("e", "error"), "warnings": ("w", "warning"),
          "notes": ("o", "note")}  # fmt: skip
_FIX = {"en": "fix", "id": "perbaikan"}


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def headline(finding: Finding, root: Path, locale: str) -> str:
    where = finding.where
    place = f"{_relative(where.file, root)}:{where.line}:{where.col}"
    code = f"{finding.rule.code} {finding.rule.name}"
    return f"{place}: {finding.level.value}[{code}] {finding.message(locale)}"


def as_text(finding: Finding, root: Path, lines: list[str] | None, locale: str) -> str:
    out = [headline(finding, root, locale)]
    where = finding.where
    if lines is not None and 1 <= where.line <= len(lines):
        text = lines[where.line - 1].rstrip("\n").replace("\t", " ")
        gutter = f"{where.line:>4} | "
        width = max(1, min(where.length, len(text) - where.col + 1))
        out += [gutter + text, " " * (len(gutter) + where.col - 1) + "^" * width]
    out.append(f"  {_FIX.get(locale, 'fix')}: {finding.fix(locale)}")
    return "\n".join(out)


def summary(findings: list[Finding], locale: str) -> str:
    many, none = _SUMMARY.get(locale, _SUMMARY["en"])
    if not findings:
        return none
    count = {level: sum(f.level is level for f in findings) for level in Level}
    numbers = {"n": len(findings), "e": count[Level.error], "w": count[Level.warning],
               "o": count[Level.note]}  # fmt: skip
    # English nouns agree with their number: 1 error, 2 warnings.
    nouns = {plural: one if numbers[key] == 1 else plural for plural, (key, one) in _NOUNS.items()}
    return many.format(**numbers, **nouns)


def as_json(findings: list[Finding], root: Path, locale: str) -> str:
    return json.dumps(
        {
            "ok": not any(f.level is Level.error for f in findings),
            "findings": [
                {
                    "file": _relative(f.where.file, root),
                    "line": f.where.line,
                    "column": f.where.col,
                    "code": f.rule.code,
                    "rule": f.rule.name,
                    "concern": f.rule.concern,
                    "severity": f.level.value,
                    "subject": f.subject,
                    "message": f.message(locale),
                    "fix": f.fix(locale),
                }
                for f in findings
            ],
        },
        indent=2,
        ensure_ascii=False,
    )


def as_sarif(findings: list[Finding], root: Path, locale: str) -> str:
    """SARIF 2.1.0: one run, every rule described, one result per finding."""
    rules = [
        {
            "id": spec.code,
            "name": spec.name,
            "shortDescription": {"text": spec.summary(locale)},
            "defaultConfiguration": {"level": spec.level.value},
            "properties": {"concern": spec.concern},
        }
        for spec, _ in RULES.values()
    ]
    index = {spec.code: i for i, (spec, _) in enumerate(RULES.values())}
    results: list[dict[str, Any]] = [
        {
            "ruleId": f.rule.code,
            "ruleIndex": index[f.rule.code],
            "level": f.level.value,
            "message": {"text": f"{f.message(locale)}. {f.fix(locale)}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {
                            "uri": _relative(f.where.file, root),
                            "uriBaseId": "PROJECTROOT",
                        },
                        "region": {
                            "startLine": f.where.line,
                            "startColumn": f.where.col,
                            "endColumn": f.where.col + max(1, f.where.length),
                        },
                    }
                }
            ],
            "properties": {"subject": f.subject},
        }
        for f in findings
    ]
    sarif = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "tolok lint",
                        "version": tolok.__version__,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"PROJECTROOT": {"uri": root.resolve().as_uri() + "/"}},
                "results": results,
            }
        ],
    }
    return json.dumps(sarif, indent=2, ensure_ascii=False)

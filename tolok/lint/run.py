"""Run every rule over a project, honour the switches, promote findings to errors."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from tolok.lint.finding import Facts, Finding, Level, Rule, Say
from tolok.lint.levels import level_added_up
from tolok.lint.rules import RULES, Context, rule
from tolok.spec.loaded import LoadedProject
from tolok.spec.models import Lint
from tolok.spec.problems import Location
from tolok.spec.source import locate


@rule("TLK100", "unknown-rule", "config", Level.warning,
      "Switched-off rules exist", "Aturan yang dimatikan memang ada")  # fmt: skip
def _unknown_rules(ctx: Context) -> Iterator[Finding]:
    spots: list[tuple[str, str, Lint | None]] = [("project", "", ctx.project.lint)]
    for section, items in (
        ("kpis", ctx.project.kpis),
        ("goals", ctx.project.goals),
        ("datasets", ctx.project.datasets),
    ):
        spots += [(section, name, item.lint) for name, item in items.items()]
    for section, name, switches in spots:
        names = [*(switches.off if switches else {})]
        if section == "project":
            names += ctx.project.lint.errors
        for key in names:
            if find_rule(key) is not None:
                continue
            where = (
                ctx.loaded.locate(section, name, "lint", "off", key, key=True)
                if section != "project"
                else _project_location(ctx)
            )
            yield Finding(
                RULES["TLK100"][0],
                Say(f"no lint rule {key!r}", f"tidak ada aturan lint {key!r}"),
                Say(
                    "use a code (TLK103) or a name (no-owner); `tolok lint --rules` lists them",
                    "pakai kode (TLK103) atau nama (no-owner); `tolok lint --rules` mendaftarnya",
                ),
                where,
                "project" if section == "project" else f"{section[:-1]}:{name}",
            )


def _project_location(ctx: Context) -> Location:
    main = ctx.loaded.root / "tolok.yaml"
    source = ctx.loaded.files.get(main)
    if source is not None and source.data is not None and "lint" in source.data:
        return locate(source, source.data, ("lint",), key=True)
    return Location(main, 1, 1)


def find_rule(key: str) -> Rule | None:
    """A rule by its code (`TLK103`) or name (`no-owner`)."""
    for code, (spec, _) in RULES.items():
        if key.upper() == code or key.lower() == spec.name:
            return spec
    return None


def lint(
    loaded: LoadedProject,
    facts: Facts | None = None,
    errors: Iterable[str] = (),
    strict: bool = False,
) -> list[Finding]:
    """Every finding on a project that validates, sorted by file and line. `errors`: rules
    (codes or names) whose findings are errors, besides the project's `lint.errors`;
    `strict`: every finding is an error."""
    project = loaded.project
    assert project is not None, "lint a project that validates"
    assert loaded.ok, "lint a project that validates"
    ctx = Context(loaded, project, facts or Facts(), project.locale.value)
    promoted = {r.code for key in (*errors, *project.lint.errors) if (r := find_rule(key))}
    off = _switched_off(loaded)
    found: list[Finding] = []
    for code, (_, check) in RULES.items():
        for finding in check(ctx):
            if code in off.get("project", set()) or code in off.get(finding.subject, set()):
                continue
            if strict or code in promoted:
                finding = Finding(
                    finding.rule, finding.message, finding.fix, finding.where,
                    finding.subject, Level.error,
                )  # fmt: skip
            found.append(finding)
    return sorted(found, key=lambda f: (str(f.where.file), f.where.line, f.where.col, f.rule.code))


def _switched_off(loaded: LoadedProject) -> dict[str, set[str]]:
    project = loaded.project
    assert project is not None
    off: dict[str, set[str]] = {"project": _codes(project.lint)}
    for section, items in (
        ("kpi", project.kpis),
        ("goal", project.goals),
        ("dataset", project.datasets),
    ):
        for name, item in items.items():
            off[f"{section}:{name}"] = _codes(item.lint)
    return off


def _codes(switches: Lint | None) -> set[str]:
    if switches is None:
        return set()
    return {spec.code for key in switches.off if (spec := find_rule(key)) is not None}


__all__ = ["RULES", "find_rule", "level_added_up", "lint"]

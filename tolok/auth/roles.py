"""Roles and what each may do; token scopes and what each lets a program do."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    viewer = "viewer"
    editor = "editor"
    admin = "admin"


class Action(StrEnum):
    read = "read"  # KPIs, goals, series, annotations, comments
    annotate = "annotate"
    comment = "comment"
    enter_values = "enter_values"  # manual values
    set_targets = "set_targets"
    ingest = "ingest"  # rows into a dataset
    share = "share"  # create and revoke share links
    own_tokens = "own_tokens"  # create and revoke one's own API tokens
    manage_users = "manage_users"
    read_audit = "read_audit"
    alert_rules = "alert_rules"  # make and remove alert rules in the app
    edit_definitions = "edit_definitions"  # datasets, KPIs, goals, alert rules, schedules (YAML)


_VIEWER = {Action.read, Action.own_tokens, Action.alert_rules}  # rules telling only themselves
_EDITOR = _VIEWER | {
    Action.annotate,
    Action.comment,
    Action.enter_values,
    Action.set_targets,
    Action.ingest,
    Action.share,
    Action.edit_definitions,
}
ALLOWED: dict[Role, frozenset[Action]] = {
    Role.viewer: frozenset(_VIEWER),
    Role.editor: frozenset(_EDITOR),
    Role.admin: frozenset(Action),
}
WRITES = frozenset(
    {
        Action.annotate,
        Action.comment,
        Action.enter_values,
        Action.set_targets,
        Action.alert_rules,
        Action.edit_definitions,
    }
)
"""What a `write` token may do (its user's role permitting); sharing and ingesting are not
among them."""


def can(role: Role | str, action: Action) -> bool:
    return action in ALLOWED[Role(role)]


class ScopeError(ValueError):
    pass


def parse_scopes(text: str, role: Role | str, datasets: list[str] | None = None) -> list[str]:
    """Scopes a user asks for a token: `read`, `write`, `ingest:DATASET`; no more than
    the user's role allows. Raises ScopeError saying what is wrong."""
    scopes = text.replace(",", " ").split()
    if not scopes:
        raise ScopeError("give at least one scope: read, write or ingest:DATASET")
    for scope in scopes:
        kind, _, dataset = scope.partition(":")
        if kind == "read" and not dataset:
            continue
        if kind == "write" and not dataset:
            if not can(role, Action.annotate):
                raise ScopeError(f"a {role} cannot give a token 'write': only read")
            continue
        if kind == "ingest" and dataset:
            if not can(role, Action.ingest):
                raise ScopeError(f"a {role} cannot give a token '{scope}': only read")
            if datasets is not None and dataset not in datasets:
                raise ScopeError(f"no dataset '{dataset}' (datasets: {', '.join(datasets)})")
            continue
        raise ScopeError(f"unknown scope '{scope}': use read, write or ingest:DATASET")
    return list(dict.fromkeys(scopes))


def scope_allows(scopes: list[str], action: Action, dataset: str | None = None) -> bool:
    """Whether a token with these scopes may do `action` (its user's role is checked too)."""
    if action is Action.read:
        return "read" in scopes or "write" in scopes
    if action is Action.ingest:
        return dataset is not None and f"ingest:{dataset}" in scopes
    if action in WRITES:
        return "write" in scopes
    return False  # users, tokens, audit: only signed in

"""`tolok serve` and `tolok user …`: the server's start, and accounts from the terminal."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tolok.auth import accounts
from tolok.cli.lang import lang_of, number_text, words
from tolok.said import error_text
from tolok.spec.loaded import LoadedProject
from tolok.store.database import open_store, store_url
from tolok.store.errors import StoreError

ACTOR = "tolok cli"
TRUSTED_PROXIES = "TOLOK_TRUSTED_PROXIES"


def proxy_options(setting: str | None = None) -> dict[str, Any]:
    """Uvicorn's options for `X-Forwarded-For` and `X-Forwarded-Proto`: honoured only from the
    proxies named in $TOLOK_TRUSTED_PROXIES (addresses or networks, comma-separated: e.g.
    `10.0.0.5,192.168.1.0/24`; `*` for any peer, only when no one else can reach the port).
    Unset, none is trusted and the peer is the client: otherwise anyone could name another
    address for each request and walk past the sign-in limit per address.

    >>> proxy_options("")
    {'proxy_headers': False}
    >>> proxy_options(" 10.0.0.5, 10.1.0.0/16 ")
    {'proxy_headers': True, 'forwarded_allow_ips': ['10.0.0.5', '10.1.0.0/16']}
    """
    text = os.environ.get(TRUSTED_PROXIES, "") if setting is None else setting
    proxies = [part.strip() for part in text.split(",") if part.strip()]
    if not proxies:  # not uvicorn's default, which trusts 127.0.0.1 ($FORWARDED_ALLOW_IPS)
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": proxies}


def _engine(loaded: LoadedProject) -> object:
    assert loaded.project is not None
    try:
        return open_store(store_url(loaded.project.store, loaded.root))
    except StoreError as exc:
        typer.echo(error_text(exc.message, words(loaded.project)), err=True)
        raise typer.Exit(1) from None


def run_serve(
    loaded: LoadedProject, host: str, port: int, secure: bool, out: Console, workers: int = 1
) -> None:
    from sqlalchemy import Engine

    from tolok.server.app import create_app
    from tolok.server.logs import configure
    from tolok.server.stopping import serve

    engine = _engine(loaded)
    assert isinstance(engine, Engine)
    try:
        with Session(engine) as session, session.begin():
            first = accounts.first_admin(session)
    except IntegrityError:  # another server on the same store made it first
        first = None
    _ = words(loaded.project)
    if first is not None:
        email, secret = first
        out.print(_("First run: an admin account was created. Its password is shown only now:"),
                  markup=False)  # fmt: skip
        out.print("  " + _("e-mail:   {email}", email=email), markup=False)
        out.print("  " + _("password: {password}", password=secret), markup=False)
        out.print("  " + _("(tolok user reset-password {email} makes a new one)", email=email),
                  markup=False)  # fmt: skip
    configure()
    url = "http://" + host + ":" + str(port)
    if workers > 1:
        _serve_workers(loaded, host, port, secure, workers, out)
        return
    app = create_app(loaded.root, secure_cookies=secure)
    out.print(_("tolok serving {folder} on {url} (API docs: /docs)", folder=loaded.root, url=url),
              markup=False)  # fmt: skip
    serve(app, host, port, **proxy_options())  # Ctrl-C stops it within a second


def _serve_workers(
    loaded: LoadedProject, host: str, port: int, secure: bool, workers: int, out: Console
) -> None:
    """`workers` processes on one port, each a whole server (`tolok.server.worker`): what
    they share is in the store, which should then be PostgreSQL."""
    import uvicorn

    from tolok.server import worker
    from tolok.server.stopping import GRACE

    assert loaded.project is not None
    _ = words(loaded.project)
    if loaded.project.store.startswith("sqlite"):
        out.print(_("note: {n} workers share a SQLite store, which lets one of them write at "
                    "a time; a team server keeps its store in PostgreSQL",
                    n=number_text(workers, lang_of(loaded.project))), markup=False)  # fmt: skip
    os.environ[worker.PROJECT] = str(loaded.root)
    os.environ[worker.SECURE] = "1" if secure else "0"
    url = "http://" + host + ":" + str(port)
    out.print(_("tolok serving {folder} on {url} with {n} workers (API docs: /docs)",
                folder=loaded.root, url=url, n=number_text(workers, lang_of(loaded.project))),
              markup=False)  # fmt: skip
    uvicorn.run(
        "tolok.server.worker:app", factory=True, host=host, port=port, workers=workers,
        log_config=None, access_log=False, timeout_graceful_shutdown=GRACE, **proxy_options(),
    )  # fmt: skip


def run_user(
    loaded: LoadedProject,
    what: str,
    email: str,
    role: str,
    name: str,
    teams: list[str],
    out: Console,
    locale: str | None = None,
) -> None:
    from sqlalchemy import Engine

    engine = _engine(loaded)
    assert isinstance(engine, Engine)
    _, lang = words(loaded.project), lang_of(loaded.project)
    try:
        with Session(engine) as session, session.begin():
            if what == "add":
                user, secret = accounts.add_user(session, email, name, role, ACTOR)
                user.locale = locale
                for team in teams:
                    accounts.join_team(session, user.email, team, ACTOR)
                out.print(_("added {email} ({role}); password: {password}", email=user.email,
                            role=_role(user.role, _), password=secret), markup=False)  # fmt: skip
                out.print(_("the password is shown only now: pass it on safely"), markup=False)
            elif what == "list":
                _list_users(session, _)
            elif what in ("disable", "enable"):
                user = accounts.set_disabled(session, email, what == "disable", ACTOR)
                done = _("{email}: disabled") if what == "disable" else _("{email}: enabled")
                out.print(done.format(email=user.email), markup=False)
            else:
                reset = accounts.reset_password(session, email, ACTOR)
                out.print(_("new password for {email}: {password}", email=email.strip().lower(),
                            password=reset.secret), markup=False)  # fmt: skip
                tokens = _("{n} API token") if reset.tokens_revoked == 1 else _("{n} API tokens")
                sessions = (_("{n} signed-in session") if reset.sessions_ended == 1
                            else _("{n} signed-in sessions"))  # fmt: skip
                out.print(_("revoked {tokens} and ended {sessions}",
                            tokens=tokens.format(n=number_text(reset.tokens_revoked, lang)),
                            sessions=sessions.format(n=number_text(reset.sessions_ended, lang))),
                          markup=False)  # fmt: skip
    except (accounts.AccountError, ValueError) as exc:
        typer.echo(error_text(str(exc), _), err=True)
        raise typer.Exit(1) from None


def _list_users(session: Session, _: Callable[..., str]) -> None:
    """Tab-separated lines: e-mail, name, role, state, teams. The role stays the word
    `--role` takes (viewer, editor, admin); the state is said in the reader's language."""
    for user in accounts.list_users(session):
        state = _("disabled") if user.disabled else _("active")
        teams_text = ", ".join(sorted(accounts.teams_of(session, user)))
        typer.echo(f"{user.email}\t{user.name}\t{user.role}\t{state}\t{teams_text}")


def _role(role: str, _: Callable[..., str]) -> str:
    """A role in words (`pengelola`), the word `--role` takes kept beside it in Indonesian."""
    named = {"viewer": _("viewer"), "editor": _("editor"), "admin": _("admin")}.get(role, role)
    return named if named == role else f"{named}, --role {role}"

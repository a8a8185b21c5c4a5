"""`tolok serve` and `tolok user …`: the server's start, and accounts from the terminal."""

from __future__ import annotations

import os
from typing import Any

import typer
from rich.console import Console
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tolok.auth import accounts
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
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None


def run_serve(loaded: LoadedProject, host: str, port: int, secure: bool, out: Console) -> None:
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
    if first is not None:
        email, secret = first
        out.print("First run: an admin account was created. Its password is shown only now:")
        out.print(f"  e-mail:   {email}", markup=False)
        out.print(f"  password: {secret}", markup=False)
        out.print("  (tolok user reset-password admin@localhost makes a new one)")
    configure()
    app = create_app(loaded.root, secure_cookies=secure)
    out.print(f"tolok serving {loaded.root} on http://{host}:{port} (API docs: /docs)")
    serve(app, host, port, **proxy_options())  # Ctrl-C stops it within a second


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
    try:
        with Session(engine) as session, session.begin():
            if what == "add":
                user, secret = accounts.add_user(session, email, name, role, ACTOR)
                user.locale = locale
                for team in teams:
                    accounts.join_team(session, user.email, team, ACTOR)
                out.print(f"added {user.email} ({user.role}); password: {secret}", markup=False)
                out.print("the password is shown only now: pass it on safely", markup=False)
            elif what == "list":
                for user in accounts.list_users(session):
                    state = "disabled" if user.disabled else "active"
                    teams_text = ", ".join(sorted(accounts.teams_of(session, user)))
                    typer.echo(f"{user.email}\t{user.name}\t{user.role}\t{state}\t{teams_text}")
            elif what in ("disable", "enable"):
                user = accounts.set_disabled(session, email, what == "disable", ACTOR)
                out.print(f"{user.email}: {what}d", markup=False)
            else:
                reset = accounts.reset_password(session, email, ACTOR)
                out.print(f"new password for {email.strip().lower()}: {reset.secret}",
                          markup=False)  # fmt: skip
                out.print(f"revoked {_count(reset.tokens_revoked, 'API token')} and ended "
                          f"{_count(reset.sessions_ended, 'signed-in session')}",
                          markup=False)  # fmt: skip
    except (accounts.AccountError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"

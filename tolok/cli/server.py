"""The server and its accounts: `serve`, `demo`, `user …`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tolok.cli.app import InitTemplate, ProjectOption, ProjectPath, app, console, load_or_exit


@app.command()
def serve(
    path: ProjectPath = Path("."),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    secure_cookies: Annotated[
        bool,
        typer.Option(help="Cookies only over HTTPS (set behind a TLS proxy; $TOLOK_SECURE)."),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Server processes on the port ($TOLOK_WORKERS); "
            "more than one wants the store in PostgreSQL.",
        ),
    ] = 1,
) -> None:
    """Run the server: sign-in, the JSON API (/api/v1, described at /docs), share links."""
    import os

    from tolok.cli.terminal.serve import run_serve

    loaded = load_or_exit(path)
    secure = secure_cookies or os.environ.get("TOLOK_SECURE", "") in ("1", "true", "yes")
    host = os.environ.get("TOLOK_HOST", host)
    port = int(os.environ.get("TOLOK_PORT", port))
    workers = int(os.environ.get("TOLOK_WORKERS", workers))
    run_serve(loaded, host, port, secure, console(), workers)


@app.command()
def demo(
    template: Annotated[
        InitTemplate, typer.Option(help="ecommerce, saas, support or marketing.")
    ] = InitTemplate.ecommerce,
    lang: Annotated[str | None, typer.Option("--lang", help="en or id.")] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (the next free one if taken).")] = (
        8000
    ),
    folder: Annotated[
        Path | None, typer.Option(help="Where to create the project (a temporary folder).")
    ] = None,
) -> None:
    """Try tolok: a sample shop, refreshed, its board served on localhost with a demo account."""
    from tolok.cli.lang import choose, lang_of
    from tolok.cli.terminal.demo import run_demo

    lang = lang or lang_of()
    choose(lang)  # the project's language is the terminal's too
    if not run_demo(template.value, lang, host, port, folder, console(), console(True)):
        raise typer.Exit(1)


user = typer.Typer(help="Accounts on the server.", no_args_is_help=True)
app.add_typer(user, name="user")


@user.command("add")
def user_add(
    email: Annotated[str, typer.Argument(help="Their e-mail address (the sign-in name).")],
    role: Annotated[str, typer.Option(help="viewer, editor or admin.")] = "viewer",
    name: Annotated[str, typer.Option(help="Their name.")] = "",
    team: Annotated[list[str] | None, typer.Option(help="A team they are in.")] = None,
    locale: Annotated[
        str | None,
        typer.Option(help="en or id: their messages' language (else the project's)."),
    ] = None,
    path: ProjectOption = Path("."),
) -> None:
    """Create an account; its password is printed once."""
    from tolok.cli.terminal.serve import run_user

    if locale is not None and locale not in ("en", "id"):
        raise typer.BadParameter("--locale is en or id")
    run_user(load_or_exit(path), "add", email, role, name, team or [], console(), locale)


@user.command("list")
def user_list(path: ProjectOption = Path(".")) -> None:
    """Every account: e-mail, name, role, disabled."""
    from tolok.cli.terminal.serve import run_user

    run_user(load_or_exit(path), "list", "", "", "", [], console())


@user.command("disable")
def user_disable(
    email: Annotated[str, typer.Argument(help="The account's e-mail.")],
    path: ProjectOption = Path("."),
) -> None:
    """Disable an account: its sessions end and its tokens stop working."""
    from tolok.cli.terminal.serve import run_user

    run_user(load_or_exit(path), "disable", email, "", "", [], console())


@user.command("enable")
def user_enable(
    email: Annotated[str, typer.Argument(help="The account's e-mail.")],
    path: ProjectOption = Path("."),
) -> None:
    """Enable a disabled account again."""
    from tolok.cli.terminal.serve import run_user

    run_user(load_or_exit(path), "enable", email, "", "", [], console())


@user.command("reset-password")
def user_reset_password(
    email: Annotated[str, typer.Argument(help="The account's e-mail.")],
    path: ProjectOption = Path("."),
) -> None:
    """A new password for an account, printed once; its sessions end."""
    from tolok.cli.terminal.serve import run_user

    run_user(load_or_exit(path), "reset-password", email, "", "", [], console())

"""`tolok demo`: a template shop with two years of sample data in a temporary folder,
refreshed, and its board served on localhost with a demo account."""

from __future__ import annotations

import socket
import tempfile
from pathlib import Path

from rich.console import Console
from sqlalchemy.orm import Session

from tolok.auth import accounts
from tolok.auth.keys import password

DEMO_USER = "demo@example.com"


def free_port(host: str, wanted: int) -> int:
    """`wanted` if nothing listens there, else the next free one (0: any)."""
    for port in [wanted, *range(wanted + 1, wanted + 20)] if wanted else [0]:
        with socket.socket() as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            chosen: int = probe.getsockname()[1]
            return chosen
    raise OSError(f"no free port from {wanted} to {wanted + 19}: pick one with --port")


def run_demo(
    template: str, lang: str, host: str, port: int, folder: Path | None, out: Console, err: Console
) -> bool:
    from tolok.cli.terminal.board import run_refresh
    from tolok.cli.terminal.init import run_init
    from tolok.i18n import gettext
    from tolok.server.app import create_app
    from tolok.server.logs import configure
    from tolok.spec.loader import load_project
    from tolok.store.database import open_store, store_url

    _ = gettext(lang)
    root = folder or Path(tempfile.mkdtemp(prefix="tolok-demo-")) / template
    quiet = Console(file=open(Path("/dev/null"), "w"))  # noqa: SIM115
    out.print(
        _("Creating the {template} sample project (two years of data) in {folder} …",
          template=template, folder=root),
        markup=False,
    )  # fmt: skip
    if not run_init(root, template, lang, quiet, err):
        return False
    loaded = load_project(root)
    assert loaded.project is not None
    run_refresh(loaded, "tolok demo", False, err)
    secret = password()
    engine = open_store(store_url(loaded.project.store, root))
    with Session(engine) as session, session.begin():
        if accounts.find_user(session, DEMO_USER) is None:
            accounts.add_user(session, DEMO_USER, "Demo", "admin", "tolok demo", secret)
        else:
            accounts.reset_password(session, DEMO_USER, "tolok demo", secret)
    engine.dispose()
    port = free_port(host, port)
    configure()
    app = create_app(root)
    out.print("")
    board = f"http://{host}:{port}/board"
    out.print(_("The board: {url}", url=board), markup=False)
    out.print(_("Sign in as {email} with the password {password}", email=DEMO_USER,
                password=secret), markup=False)  # fmt: skip
    out.print(_("(the project stays in {folder}; Ctrl+C stops the server)", folder=root),
              markup=False)  # fmt: skip
    from tolok.cli.terminal.serve import proxy_options
    from tolok.server.stopping import serve

    serve(app, host, port, **proxy_options())  # Ctrl-C stops it within a second
    return True

"""An alert to the account `tolok serve` makes first, `admin@localhost`: a local address is
a recipient like any other, and the mail reaches it through a real SMTP server."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.notify.conftest import SENDER, SmtpServer
from tests.server.conftest import PROJECT
from tolok.auth import accounts
from tolok.notify.channels import Sender
from tolok.notify.messages import Message, Way
from tolok.notify.recipients import recipients
from tolok.spec.loader import load_project


def test_an_alert_reaches_the_local_admin(smtp: SmtpServer, store: Engine, tmp_path: Path) -> None:
    (tmp_path / "tolok.yaml").write_text(PROJECT, encoding="utf-8")
    loaded = load_project(tmp_path)
    assert loaded.project is not None
    with Session(store) as session, session.begin():
        user, _ = accounts.add_user(session, "admin@localhost", "Admin", "admin", "test")
        user.locale = "id"
    [found] = recipients(["Admin@localhost"], loaded.project, store)
    assert (found.way, found.address, found.locale) == (Way.email, "admin@localhost", "id")
    told = Message(kind="alert", subject="Revenue is off track", text="Revenue fell.")
    assert Sender(store, smtp.email()).send("alert:revenue:1", found, told) == "sent"
    assert smtp.envelopes == [(SENDER, ["admin@localhost"])]
    assert smtp.messages[0]["To"] == "Admin <admin@localhost>"

"""`tolok run-due` on a refreshed shop: a digest schedule mails each person of a team once, in
their language, with its charts inline; a report schedule files a PDF."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.orm import Session

from tests.notify.conftest import SmtpServer
from tests.shop import build, month_start, monthly, orders
from tolok.auth import accounts
from tolok.notify.jobs import run_due
from tolok.store.database import open_store
from tolok.store.people import TeamMember, User

TODAY = dt.date.today()


def _setup(root: Path, smtp: SmtpServer) -> None:
    build(root, TODAY)
    text = (root / "tolok.yaml").read_text(encoding="utf-8")
    head = f"email: {{host: 127.0.0.1, port: {smtp.port}, security: none, sender: kpi@toko.id}}\n"
    head += "url: https://kpi.toko.id\n"
    (root / "tolok.yaml").write_text(head + text + """
channels:
  team: {team: sales}
schedules:
  morning: {do: digest, every: day, at: "08:00", to: [team], kpis: [revenue, orders]}
  month-end: {do: report, every: month, on: 1, at: "07:00", format: pdf, folder: reports}
""", encoding="utf-8")  # fmt: skip
    engine = open_store(f"sqlite:///{root / 'tolok.db'}")
    with Session(engine) as session, session.begin():
        for email, locale in (("ani@example.com", "id"), ("bob@example.com", None)):
            user, _ = accounts.add_user(session, email, "X", "viewer", "test", "long enough pw")
            session.flush()
            session.add(TeamMember(team="sales", user_id=user.id))
            session.execute(update(User).where(User.email == email).values(locale=locale))
    engine.dispose()


def test_a_digest_reaches_each_member_once_in_their_language(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    _setup(tmp_path, smtp)
    clock = dt.datetime.combine(TODAY, dt.time(7, 30))
    first = run_due(tmp_path, lambda: clock)
    assert sorted(o.status for o in first) == ["seen", "seen"]
    clock = dt.datetime.combine(TODAY, dt.time(8, 1))
    [outcome] = run_due(tmp_path, lambda: clock)
    assert (outcome.schedule, outcome.status) == ("morning", "done")
    assert run_due(tmp_path, lambda: clock) == []
    by_to = {str(m["To"].addresses[0].addr_spec): m for m in smtp.messages}
    assert sorted(by_to) == ["ani@example.com", "bob@example.com"]
    english, indonesian = by_to["bob@example.com"], by_to["ani@example.com"]
    assert indonesian["Content-Language"] == "id"
    assert english["Content-Language"] == "en"
    revenue, _ = monthly(orders(TODAY), month_start(TODAY, 1))
    html = english.get_body(("html",))
    assert html is not None
    content = str(html.get_content()).replace("\xa0", " ")
    assert f"IDR {revenue:,}" in content
    assert "https://kpi.toko.id/kpis/revenue" in content
    assert "<script" not in content.lower()
    images = [p for p in english.walk() if p.get_content_type() == "image/png"]
    cids = {str(p["Content-ID"]).strip("<>") for p in images}
    assert cids
    assert all(f"cid:{cid}" in content for cid in cids)
    text = str(indonesian.get_body(("html",)).get_content()).replace("\xa0", " ")  # type: ignore[union-attr]
    assert f"Rp {revenue:,}".replace(",", ".") in text


def test_a_report_schedule_files_a_pdf(tmp_path: Path, smtp: SmtpServer) -> None:
    _setup(tmp_path, smtp)
    start = month_start(TODAY)
    before = dt.datetime.combine(start - dt.timedelta(days=1), dt.time(12))
    run_due(tmp_path, lambda: before)  # both first seen
    after = dt.datetime.combine(start, dt.time(7, 5))
    outcomes = {o.schedule: o for o in run_due(tmp_path, lambda: after)}
    assert outcomes["month-end"].status == "done", outcomes["month-end"].note
    pdf = tmp_path / "reports" / f"month-end-{start:%Y-%m-%d}.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")


def test_a_digest_whose_mail_failed_raises_so_its_run_is_tried_again(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    import pytest

    from tolok.engine.warehouse import Warehouse
    from tolok.notify.channels import Sender
    from tolok.notify.jobs import Jobs, UndeliveredError
    from tolok.notify.schedule import note_text
    from tolok.spec.loader import load_project

    _setup(tmp_path, smtp)
    loaded = load_project(tmp_path)
    assert loaded.project is not None
    engine = open_store(f"sqlite:///{tmp_path / 'tolok.db'}")
    sender = Sender(engine, loaded.project.email, attempts=1)
    jobs = Jobs(lambda: loaded, engine, sender, lambda adhoc: Warehouse(adhoc))
    schedule = loaded.project.schedules["morning"]
    smtp.script("451 4.3.0 try again later")  # the first message waits
    with pytest.raises(UndeliveredError) as failed:
        jobs.digest(loaded, schedule, "schedule:morning:x")
    assert note_text(str(failed.value)) == "digest to 1 recipient, 1 failed"
    assert note_text(str(failed.value), "id") == "ringkasan ke 1 penerima, 1 gagal"
    assert len(smtp.messages) == 1
    said = jobs.digest(loaded, schedule, "schedule:morning:x")
    assert note_text(said) == "digest to 2 recipients"
    assert len(smtp.messages) == 2  # only the one that waited
    engine.dispose()


def test_tolok_refresh_checks_the_alert_rules_and_tells(tmp_path: Path, smtp: SmtpServer) -> None:
    """A nightly `tolok refresh` from cron tells people too; `--no-alerts` does not."""
    from typer.testing import CliRunner

    from tolok.cli import app

    build(tmp_path, TODAY)
    text = (tmp_path / "tolok.yaml").read_text(encoding="utf-8")
    head = f"email: {{host: 127.0.0.1, port: {smtp.port}, security: none, sender: kpi@toko.id}}\n"
    rule = (
        "alerts:\n  small: {when: threshold, kpis: [orders], below: 1000, notify: [ops@toko.id]}\n"
    )
    (tmp_path / "tolok.yaml").write_text(head + text + rule, encoding="utf-8")
    quiet = CliRunner().invoke(app, ["refresh", str(tmp_path), "--no-alerts"])
    assert quiet.exit_code == 0, quiet.output
    assert smtp.messages == []
    told = CliRunner().invoke(app, ["refresh", str(tmp_path)])
    assert told.exit_code == 0, told.output
    assert "opened: small · orders" in told.output
    assert [str(m["To"]) for m in smtp.messages] == ["ops@toko.id"]

"""Sending by e-mail and webhook through real servers: each message once, retries with
backoff, and the delivery log telling what happened."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, event

import tolok
from tests.notify.conftest import PASSWORD, PASSWORD_ENV, SENDER, USER, SmtpServer, WebhookServer
from tolok.notify.channels import Sender, delivery_log
from tolok.notify.messages import Attachment, Image, Message, Recipient, Way

NOW = dt.datetime(2025, 3, 4, 5, 6, 7)
PNG = bytes.fromhex("89504e470d0a1a0a") + b"not really a picture, but bytes are bytes"


class Waits(list[float]):
    """Records the waits between attempts instead of sleeping them."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def clock(at: dt.datetime) -> Callable[[], dt.datetime]:
    return lambda: at


def sender(store: Engine, email: Any = None, **options: Any) -> tuple[Sender, Waits]:
    waits = Waits()
    return Sender(store, email, sleep=waits, now=clock(NOW), **options), waits


def message(**changes: Any) -> Message:
    fields: dict[str, Any] = {
        "kind": "alert",
        "subject": "Conversion rate is off track",
        "text": "Conversion rate fell to 1.9% (target 2.5%).",
    }
    return Message(**(fields | changes))


def dewi(locale: str = "id") -> Recipient:
    return Recipient("sales", Way.email, "dewi@tokomaju.id", locale, name="Dewi Lestari")


def hook(webhook: WebhookServer, way: Way = Way.slack, secret: str | None = None) -> Recipient:
    return Recipient("chat", way, webhook.url, "en", secret=secret)


def host_of(webhook: WebhookServer) -> str:
    return webhook.url.split("/")[2]


# E-mail


def test_an_email_arrives_once_with_text_html_and_an_inline_chart(
    smtp: SmtpServer, store: Engine
) -> None:
    html = '<p>Conversion rate fell.</p><img src="cid:chart-conversion" alt="Chart">'
    sent = message(
        html=html,
        images=[Image("chart-conversion", PNG, "Chart")],
        attachments=[Attachment("board.pdf", "application/pdf", b"%PDF-1.7 tiny")],
    )
    outbox, _ = sender(store, smtp.email())
    assert outbox.send("alert:conversion:1", dewi(), sent) == "sent"
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail["From"] == f"Toko Maju KPIs <{SENDER}>"
    assert mail["To"] == "Dewi Lestari <dewi@tokomaju.id>"
    assert mail["Subject"] == "Conversion rate is off track"
    assert mail["Content-Language"] == "id"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["Message-ID"].endswith("@tokomaju.id>")
    assert mail["Date"].datetime == NOW.replace(tzinfo=dt.UTC)
    assert smtp.envelopes == [(SENDER, ["dewi@tokomaju.id"])]
    text = mail.get_body(preferencelist=("plain",))
    assert text is not None
    assert text.get_content().strip() == sent.text
    body = mail.get_body(preferencelist=("html",))
    assert body is not None
    assert body.get_content().strip() == html
    related = next(p for p in mail.walk() if p.get_content_type() == "multipart/related")
    image = next(p for p in related.iter_parts() if p.get_content_type() == "image/png")
    assert image["Content-ID"] == "<chart-conversion>"
    assert image.get_content_disposition() == "inline"
    assert image.get_content() == PNG
    assert "cid:" + image["Content-ID"].strip("<>") in html
    pdf = next(p for p in mail.iter_attachments() if p.get_filename() == "board.pdf")
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_content() == b"%PDF-1.7 tiny"
    [row] = delivery_log(store)
    assert (row.status, row.attempts, row.address, row.channel, row.kind) == (
        "sent", 1, "dewi@tokomaju.id", "sales", "alert")  # fmt: skip
    assert (row.subject, row.error, row.created_at, row.sent_at) == (sent.subject, None, NOW, NOW)


def test_the_same_key_twice_delivers_one_message(smtp: SmtpServer, store: Engine) -> None:
    outbox, _ = sender(store, smtp.email())
    assert outbox.send("digest:morning:2025-03-04", dewi(), message()) == "sent"
    again, _ = sender(store, smtp.email())  # a second run, after a restart
    assert again.send("digest:morning:2025-03-04", dewi(), message()) == "already sent"
    assert len(smtp.messages) == 1
    # Another key, or another recipient under the same key, is another message.
    assert outbox.send("digest:morning:2025-03-05", dewi(), message()) == "sent"
    budi = Recipient("sales", Way.email, "budi@tokomaju.id", "en")
    assert outbox.send("digest:morning:2025-03-04", budi, message()) == "sent"
    assert len(smtp.messages) == 3
    assert smtp.messages[2]["To"] == "budi@tokomaju.id"
    assert smtp.messages[2]["Content-Language"] == "en"


@pytest.mark.parametrize("password", ["plain-ascii-1", PASSWORD])  # PASSWORD has an "ä"
def test_starttls_and_login(
    smtp_tls: SmtpServer, store: Engine, monkeypatch: pytest.MonkeyPatch, password: str
) -> None:
    smtp_tls.password = password
    monkeypatch.setenv(PASSWORD_ENV, password)
    outbox, _ = sender(store, smtp_tls.email(), ssl_context=smtp_tls.client_context)
    assert outbox.send("test:1", dewi(), message(kind="test")) == "sent"
    assert smtp_tls.logins == [(USER, True)]
    assert [m["Subject"] for m in smtp_tls.messages] == ["Conversion rate is off track"]


def test_tls_from_the_first_byte(smtp_ssl: SmtpServer, store: Engine) -> None:
    outbox, _ = sender(store, smtp_ssl.email(), ssl_context=smtp_ssl.client_context)
    assert outbox.send("test:1", dewi(), message()) == "sent"
    assert [m["To"] for m in smtp_ssl.messages] == ["Dewi Lestari <dewi@tokomaju.id>"]


def test_an_smtp_4xx_is_retried_and_a_5xx_is_refused_for_good(
    smtp: SmtpServer, store: Engine
) -> None:
    smtp.script("451 4.3.0 Try again later")
    outbox, waits = sender(store, smtp.email(), backoff=1.0)
    assert outbox.send("test:1", dewi(), message()) == "sent"
    assert (len(smtp.messages), waits) == (1, [1.0])
    smtp.script("550 5.1.1 No such mailbox")
    assert outbox.send("test:2", dewi(), message()) == "refused"
    assert (len(smtp.messages), waits) == (1, [1.0])
    failed, sent = delivery_log(store)
    assert (sent.status, sent.attempts) == ("sent", 2)
    assert (failed.status, failed.attempts) == ("refused", 1)
    assert outbox.send("test:2", dewi(), message()) == "refused"  # not tried again
    assert (
        failed.error == f"the SMTP server 127.0.0.1:{smtp.port} answered 550 5.1.1 No such mailbox"
    )


def test_a_wrong_password_fails_at_once_and_says_so(
    smtp_tls: SmtpServer, store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "not-" + PASSWORD)
    outbox, waits = sender(store, smtp_tls.email(), ssl_context=smtp_tls.client_context)
    assert outbox.send("test:1", dewi(), message()) == "failed"
    assert smtp_tls.messages == []
    assert waits == []  # a refused login is not retried
    [row] = delivery_log(store)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.error is not None
    assert f"refused the login of {USER}" in row.error
    assert "535" in row.error
    assert PASSWORD not in row.error


def test_an_untrusted_certificate_fails_without_retrying(
    smtp_tls: SmtpServer, store: Engine
) -> None:
    outbox, waits = sender(store, smtp_tls.email())  # the system's authorities only
    assert outbox.send("test:1", dewi(), message()) == "failed"
    [row] = delivery_log(store)
    assert row.error is not None
    assert row.error.startswith("TLS with the SMTP server 127.0.0.1")
    assert (row.attempts, waits, smtp_tls.messages) == (1, [], [])


def test_a_missing_password_variable_is_named(
    smtp_tls: SmtpServer, store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSWORD_ENV)
    outbox, _ = sender(store, smtp_tls.email(), ssl_context=smtp_tls.client_context)
    assert outbox.send("test:1", dewi(), message()) == "failed"
    [row] = delivery_log(store)
    assert row.error is not None
    assert f"environment variable {PASSWORD_ENV} is not set" in row.error
    assert smtp_tls.logins == []


def test_no_email_settings_fail_clearly(store: Engine) -> None:
    outbox, _ = sender(store, None)
    assert outbox.send("test:1", dewi(), message()) == "failed"
    [row] = delivery_log(store)
    assert row.error is not None
    assert "no e-mail server is set up" in row.error
    assert "email:" in row.error


def test_an_smtp_server_that_is_down_is_retried_with_backoff(store: Engine) -> None:
    from tests.notify.conftest import free_port

    closed = SmtpServer("127.0.0.1", free_port())  # nothing listens there
    outbox, waits = sender(store, closed.email(), attempts=3, backoff=0.5)
    assert outbox.send("test:1", dewi(), message()) == "failed"
    assert waits == [0.5, 1.0]
    [row] = delivery_log(store)
    assert row.attempts == 3
    assert row.error is not None
    assert row.error.startswith(f"cannot reach the SMTP server 127.0.0.1:{closed.port}")
    assert row.error.endswith("after 3 attempts")


# Webhooks


def test_a_webhook_answering_500_500_200_is_retried(webhook: WebhookServer, store: Engine) -> None:
    webhook.script(500, 500, 200)
    outbox, waits = sender(store, backoff=2.0)
    assert outbox.send("alert:x:1", hook(webhook), message()) == "sent"
    assert len(webhook.requests) == 3
    assert waits == [2.0, 4.0]
    [row] = delivery_log(store)
    assert (row.status, row.attempts, row.error, row.sent_at) == ("sent", 3, None, NOW)


def test_a_webhook_always_failing_is_logged_as_failed(
    webhook: WebhookServer, store: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    webhook.script(500, 500, 500, 500, 500)
    outbox, waits = sender(store, attempts=4, backoff=1.5)
    with caplog.at_level(logging.WARNING, logger="tolok.notify"):
        assert outbox.send("alert:x:1", hook(webhook), message()) == "failed"
    assert len(webhook.requests) == 4
    assert waits == [1.5, 3.0, 6.0]
    [row] = delivery_log(store)
    error = f"HTTP 500 from {host_of(webhook)} after 4 attempts"
    assert (row.status, row.attempts, row.error, row.sent_at) == ("failed", 4, error, None)
    [record] = [r for r in caplog.records if r.name == "tolok.notify"]
    assert record.levelno == logging.WARNING
    assert error in record.getMessage()
    assert "s3cr3tPath" not in record.getMessage()


def test_a_404_is_refused_after_one_attempt(webhook: WebhookServer, store: Engine) -> None:
    webhook.script(404)
    outbox, waits = sender(store)
    assert outbox.send("alert:x:1", hook(webhook), message()) == "refused"
    assert (len(webhook.requests), waits) == (1, [])
    [row] = delivery_log(store)
    assert (row.attempts, row.error) == (1, f"HTTP 404 from {host_of(webhook)}: no_service")


def test_429_waits_as_long_as_retry_after_says_up_to_a_minute(
    webhook: WebhookServer, store: Engine
) -> None:
    webhook.script((429, {"Retry-After": "3"}), (503, {"Retry-After": "600"}), 200)
    outbox, waits = sender(store)
    assert outbox.send("alert:x:1", hook(webhook), message()) == "sent"
    assert waits == [3.0, 60.0]


def test_slack_gets_text_and_blocks(webhook: WebhookServer, store: Engine) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Conversion* 1.9%"}}]
    outbox, _ = sender(store)
    assert outbox.send("alert:x:1", hook(webhook), message(blocks=blocks)) == "sent"
    assert outbox.send("alert:x:2", hook(webhook), message()) == "sent"
    first, second = webhook.requests
    assert first.path == "/services/T0/B0/s3cr3tPath"
    assert first.headers["Content-Type"] == "application/json"
    assert json.loads(first.body) == {"text": message().text, "blocks": blocks}
    assert json.loads(second.body) == {"text": message().text}  # no empty blocks


def test_a_signed_webhook_verifies_with_its_secret(webhook: WebhookServer, store: Engine) -> None:
    secret = "whsec-0123456789"
    payload = {"kpi": "conversion_rate", "value": 0.019, "status": "off_track"}
    outbox, _ = sender(store)
    sent = message(payload=payload)
    assert outbox.send("alert:x:1", hook(webhook, Way.signed, secret), sent) == "sent"
    [request] = webhook.requests
    timestamp = request.headers["X-Tolok-Timestamp"]
    assert int(timestamp) == int(NOW.replace(tzinfo=dt.UTC).timestamp())
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256)
    signature = request.headers["X-Tolok-Signature"]
    assert hmac.compare_digest(signature, "sha256=" + expected.hexdigest())
    assert request.headers["User-Agent"] == f"tolok/{tolok.__version__}"
    body = json.loads(request.body)
    assert body == payload | {"kind": "alert", "subject": sent.subject, "text": sent.text,
                              "delivery": request.headers["X-Tolok-Delivery"],
                              "sent_at": "2025-03-04T05:06:07+00:00"}  # fmt: skip
    assert b" " not in request.body.replace(sent.subject.encode(), b"").replace(
        sent.text.encode(), b""
    )  # compact JSON
    # A body changed on the way no longer matches.
    forged = hmac.new(secret.encode(), timestamp.encode() + b"." + request.body + b" ", "sha256")
    assert signature != "sha256=" + forged.hexdigest()


def test_a_signed_webhook_without_a_secret_fails_at_once(
    webhook: WebhookServer, store: Engine
) -> None:
    outbox, _ = sender(store)
    assert outbox.send("alert:x:1", hook(webhook, Way.signed), message()) == "failed"
    assert webhook.requests == []
    [row] = delivery_log(store)
    assert row.error is not None
    assert "secret" in row.error


def test_the_log_shows_a_webhooks_host_never_its_url(webhook: WebhookServer, store: Engine) -> None:
    outbox, _ = sender(store)
    outbox.send("alert:x:1", hook(webhook), message())
    [row] = delivery_log(store)
    assert row.address == host_of(webhook)
    assert "s3cr3tPath" not in row.key
    assert "s3cr3tPath" not in repr(row)


def test_an_unreachable_webhook_names_its_host_only(store: Engine) -> None:
    from tests.notify.conftest import free_port

    url = f"http://127.0.0.1:{free_port()}/services/T0/B0/s3cr3tPath"
    outbox, _ = sender(store, attempts=2)
    assert outbox.send("x", Recipient("chat", Way.slack, url, "en"), message()) == "failed"
    [row] = delivery_log(store)
    assert row.error is not None
    assert row.error.startswith(f"cannot reach {url.split('/')[2]}")
    assert "s3cr3tPath" not in row.error


# Claims and the log


class Killed(BaseException):
    """The process dies (a deploy, an OOM kill) while waiting to try again."""


def test_a_row_left_sending_by_a_crash_is_sent_by_the_next_run(
    webhook: WebhookServer, store: Engine
) -> None:
    webhook.script(500)

    def die(seconds: float) -> None:
        raise Killed

    crashing = Sender(store, None, sleep=die, now=clock(NOW))
    with pytest.raises(Killed):
        crashing.send("alert:x:1", hook(webhook), message())
    [row] = delivery_log(store)
    assert (row.status, row.attempts) == ("sending", 1)
    soon = Sender(store, None, sleep=Waits(), now=clock(NOW + dt.timedelta(minutes=5)))
    assert soon.send("alert:x:1", hook(webhook), message()) == "in flight"  # not resent
    assert len(webhook.requests) == 1
    outbox = Sender(store, None, sleep=Waits(), now=clock(NOW + dt.timedelta(minutes=11)))
    assert outbox.send("alert:x:1", hook(webhook), message()) == "sent"
    [row] = delivery_log(store)
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(webhook.requests) == 2
    assert outbox.send("alert:x:1", hook(webhook), message()) == "already sent"


def test_a_failed_delivery_is_tried_again_counting_on(
    webhook: WebhookServer, store: Engine
) -> None:
    webhook.script(500, 500)
    first, _ = sender(store, attempts=2)
    assert first.send("alert:x:1", hook(webhook), message()) == "failed"
    second, _ = sender(store, attempts=2)
    assert second.send("alert:x:1", hook(webhook), message()) == "sent"
    [row] = delivery_log(store)
    assert (row.status, row.attempts, row.error) == ("sent", 3, None)


def test_two_processes_claiming_one_key_send_once(webhook: WebhookServer, store: Engine) -> None:
    both_looked = threading.Barrier(2, timeout=10)

    @event.listens_for(store, "before_cursor_execute")
    def meet(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("INSERT INTO deliveries"):
            both_looked.wait()  # each found no row; now both insert

    results: list[str] = []

    def run() -> None:
        results.append(sender(store)[0].send("alert:x:1", hook(webhook), message()))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["in flight", "sent"]
    assert len(webhook.requests) == 1


def test_a_long_key_is_hashed_to_fit(smtp: SmtpServer, store: Engine) -> None:
    key = "report:" + "x" * 1000
    outbox, _ = sender(store, smtp.email())
    assert outbox.send(key, dewi(), message()) == "sent"
    assert outbox.send(key, dewi(), message()) == "already sent"
    [row] = delivery_log(store)
    assert len(row.key) <= 600
    assert len(smtp.messages) == 1


def test_the_log_is_newest_first_in_pages_and_by_status(
    webhook: WebhookServer, store: Engine
) -> None:
    webhook.script(200, 404, 200)
    for day in range(3):
        outbox = Sender(store, None, now=clock(NOW + dt.timedelta(days=day)))
        outbox.send(f"digest:{day}", hook(webhook), message(subject=f"Day {day}"))
    assert [r.subject for r in delivery_log(store)] == ["Day 2", "Day 1", "Day 0"]
    assert [r.subject for r in delivery_log(store, limit=1, offset=1)] == ["Day 1"]
    assert [r.subject for r in delivery_log(store, status="refused")] == ["Day 1"]
    assert [r.subject for r in delivery_log(store, status="sent")] == ["Day 2", "Day 0"]


def test_retry_after_as_an_http_date_counts_from_now() -> None:
    import httpx

    from tolok.notify.webhook import retry_after

    asked = httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"})
    assert retry_after(asked, dt.datetime(2026, 10, 21, 7, 27, 30)) == 30.0
    assert retry_after(asked, dt.datetime(2026, 10, 21, 8, 0)) == 0.0  # already past
    assert retry_after(httpx.Response(503, headers={"Retry-After": "soon"})) is None
    assert retry_after(httpx.Response(503, headers={"Retry-After": "7"})) == 7.0


def test_a_server_that_cannot_be_reached_is_left_alone_for_a_while(store: Engine) -> None:
    """A digest to many people with the mail server down: the first message tries every
    attempt, the others fail at once; five minutes later the server is tried again."""
    import socket

    from tolok.spec.sharing import Email

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Email(host="127.0.0.1", port=port, security="none", sender="kpi@toko.id",
                     timeout=2)  # fmt: skip
    at = [NOW]
    waits = Waits()
    outbox = Sender(store, settings, sleep=waits, now=lambda: at[0])
    people = [Recipient("team", Way.email, f"p{i}@toko.id", "en") for i in range(3)]
    outcomes = [outbox.send("digest:1", person, message()) for person in people]
    assert outcomes == ["failed"] * 3
    rows = {r.address: r for r in delivery_log(store)}
    assert rows["p0@toko.id"].attempts == 4
    assert "cannot reach" in (rows["p0@toko.id"].error or "")
    assert [rows[f"p{i}@toko.id"].attempts for i in (1, 2)] == [1, 1]
    assert "unreachable moments ago" in (rows["p1@toko.id"].error or "")
    assert len(waits) == 3  # only the first message waited between its attempts
    at[0] = NOW + dt.timedelta(minutes=6)
    outbox.send("digest:1", people[1], message())
    assert {r.address: r for r in delivery_log(store)}["p1@toko.id"].attempts == 5

"""Real servers for the tests of sending: an SMTP server (aiosmtpd), with STARTTLS and a
login when asked, and a web server answering webhooks from a script. Alerts and digests
use them too: nothing in the way of sending is mocked.

    def test_alert_mail(smtp: SmtpServer, store: Engine) -> None:
        sender = Sender(store, smtp.email())
        ...
        assert smtp.messages[0]["Subject"] == "…"
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from sqlalchemy import Engine

from tests.store.conftest import store_url  # noqa: F401  (a store on SQLite and PostgreSQL)
from tolok.spec.sharing import Email
from tolok.store.database import open_store

SENDER = "tolok@tokomaju.id"
USER = "tolok@tokomaju.id"
PASSWORD = "s3cret-pässword"
PASSWORD_ENV = "TOLOK_TEST_SMTP_PASSWORD"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class SmtpServer:
    """A running SMTP server: what it received, and the `Email` settings that reach it."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)  # MAIL FROM, RCPT TO
    logins: list[tuple[str, bool]] = field(default_factory=list)  # user, accepted
    security: str = "none"
    user: str | None = None
    password: str | None = None  # the one the server accepts
    client_context: ssl.SSLContext | None = None  # trusts the server's certificate
    replies: list[str] = field(default_factory=list)  # scripted answers to DATA, then 250

    def script(self, *replies: str) -> None:
        """Answer the next messages so, e.g. `script("451 4.3.0 Try again later")`; a
        message answered other than 250 is not kept."""
        self.replies[:] = replies

    def email(self, **changes: Any) -> Email:
        settings: dict[str, Any] = {"host": self.host, "port": self.port,
                                    "security": self.security, "sender": SENDER,
                                    "sender_name": "Toko Maju KPIs", "timeout": 5}  # fmt: skip
        if self.user is not None:
            settings.update(user=self.user, password_env=PASSWORD_ENV)
        return Email(**(settings | changes))


class _Inbox:
    """aiosmtpd's handler: keeps each message, parsed as a mail client would."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        if self.server.replies:
            return self.server.replies.pop(0)
        self.server.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        self.server.messages.append(parsed)
        return "250 OK"


def _start(server: SmtpServer, **options: Any) -> Controller:
    controller = Controller(_Inbox(server), hostname=server.host, port=server.port, **options)
    controller.start()
    return controller


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A plain SMTP server on 127.0.0.1 (security: none, no login)."""
    server = SmtpServer("127.0.0.1", free_port())
    controller = _start(server)
    yield server
    controller.stop()


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost, made with `openssl`."""
    folder = tmp_path_factory.mktemp("tls")
    made = Certificate(folder / "cert.pem", folder / "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=localhost", "-keyout", str(made.key),
         "-out", str(made.cert), "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    return made


@pytest.fixture
def smtp_tls(certificate: Certificate, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """An SMTP server that requires STARTTLS and a login (user `USER`, password `PASSWORD`,
    given to tolok in the environment variable `PASSWORD_ENV`; a test may change both)."""
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    client = ssl.create_default_context(cafile=str(certificate.cert))
    server = SmtpServer("127.0.0.1", free_port(), security="starttls", user=USER,
                        password=PASSWORD, client_context=client)  # fmt: skip
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(str(certificate.cert), str(certificate.key))

    def authenticate(
        smtp: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        user, password = data.login.decode(), data.password.decode()
        accepted = user == USER and password == server.password
        server.logins.append((user, accepted))
        return AuthResult(success=accepted, handled=False)  # aiosmtpd answers 535 itself

    controller = _start(server, tls_context=tls, require_starttls=True,
                        authenticator=authenticate, auth_require_tls=True)  # fmt: skip
    yield server
    controller.stop()


@pytest.fixture
def smtp_ssl(certificate: Certificate) -> Iterator[SmtpServer]:
    """An SMTP server speaking TLS from the first byte (port 465 style), no login."""
    client = ssl.create_default_context(cafile=str(certificate.cert))
    server = SmtpServer("127.0.0.1", free_port(), security="ssl", client_context=client)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(str(certificate.cert), str(certificate.key))
    controller = _start(server, ssl_context=tls)
    yield server
    controller.stop()


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    body: bytes


Answer = int | tuple[int, dict[str, str]]


@dataclass
class WebhookServer:
    """A web server that records each request and answers from a script: `script(500, 500,
    200)`, or `(429, {"Retry-After": "3"})` for an answer with headers. Once the script is
    used up it answers 200."""

    url: str
    requests: list[Request] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, *answers: Answer) -> None:
        with self.lock:
            self.answers[:] = answers

    def next_answer(self, request: Request) -> tuple[int, dict[str, str]]:
        with self.lock:
            self.requests.append(request)
            answer = self.answers.pop(0) if self.answers else 200
        return answer if isinstance(answer, tuple) else (answer, {})


def _handler(hook: WebhookServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            code, headers = hook.next_answer(Request(self.path, dict(self.headers), body))
            said = b"ok" if code < 400 else b"no_service"
            self.send_response(code)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(said)))
            self.end_headers()
            self.wfile.write(said)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return Handler


@pytest.fixture
def webhook() -> Iterator[WebhookServer]:
    """A local webhook receiver; `.url` ends in a secret-looking path like Slack's."""
    hook = WebhookServer(url="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hook))
    host, port = httpd.server_address[:2]
    hook.url = f"http://{host!s}:{port}/services/T0/B0/s3cr3tPath"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield hook
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def store(tmp_path: Path) -> Engine:
    """An empty store (SQLite, at the newest revision) for the delivery log."""
    return open_store(f"sqlite:///{tmp_path / 'tolok.db'}")

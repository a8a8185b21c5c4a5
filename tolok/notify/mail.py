"""E-mail: a message composed as mail clients expect it, and sent over SMTP.

The HTML part refers to its chart images as `cid:…`, so they travel inside the message
(`multipart/related`) rather than as links a mail client would block. `Auto-Submitted:
auto-generated` tells servers and people's rules that no one wrote it by hand (no
out-of-office replies to it); `Content-Language` lets clients pick a spell checker and
screen readers a voice.

SMTP replies in the 4xx range and broken connections may pass on a later try; 5xx replies,
a refused login and TLS that does not verify will not.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from tolok.notify.channels import Attempt, DeliveryError
from tolok.notify.messages import Message, Recipient
from tolok.spec.sharing import Email, EmailSecurity


def prepare(
    email: Email | None,
    recipient: Recipient,
    message: Message,
    delivery: str,
    context: ssl.SSLContext | None,
    now: Callable[[], dt.datetime],
) -> Attempt:
    """One attempt at sending `message` to `recipient`; composed once, so every attempt
    sends the same Message-ID and a receiving server can drop a second copy."""
    if email is None:
        raise DeliveryError(
            "no e-mail server is set up: add `email: {host: …, sender: …}` to tolok.yaml",
            retry=False,
        )
    password = _password(email)
    composed = compose(email, recipient, message, delivery, now())

    def attempt() -> None:
        transmit(email, password, composed, recipient.address, context)

    return attempt


def _password(email: Email) -> str | None:
    if email.user is None:
        return None
    password = os.environ.get(email.password_env)
    if password is None:
        raise DeliveryError(
            f"the environment variable {email.password_env} is not set: it holds the password "
            f"of {email.user} on the SMTP server {email.host}",
            retry=False,
        )
    return password


def compose(
    email: Email, recipient: Recipient, message: Message, delivery: str, at: dt.datetime
) -> EmailMessage:
    """The e-mail: plain text, the HTML as an alternative with its images inline, then
    any attachments. `at` is UTC (naive, as the store keeps it)."""
    mail = EmailMessage()
    mail["From"] = formataddr((email.sender_name, email.sender))
    mail["To"] = (
        formataddr((recipient.name, recipient.address)) if recipient.name else recipient.address
    )
    mail["Subject"] = message.subject
    mail["Date"] = format_datetime(at.replace(tzinfo=dt.UTC))
    mail["Message-ID"] = f"<{delivery}.tolok@{email.sender.rpartition('@')[2]}>"
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.text)
    if message.html is not None:
        mail.add_alternative(message.html, subtype="html")
        html = mail.get_body(preferencelist=("html",))
        assert isinstance(html, EmailMessage)
        for image in message.images:
            html.add_related(image.png, "image", "png", cid=f"<{image.cid}>",
                             disposition="inline", filename=f"{image.cid}.png")  # fmt: skip
    for attachment in message.attachments:
        maintype, _, subtype = attachment.mime.partition("/")
        mail.add_attachment(attachment.data, maintype, subtype or "octet-stream",
                            filename=attachment.filename)  # fmt: skip
    # Last: making a part multipart moves every Content-* header into its first child.
    mail["Content-Language"] = recipient.locale
    return mail


def transmit(
    email: Email,
    password: str | None,
    mail: EmailMessage,
    to: str,
    context: ssl.SSLContext | None,
) -> None:
    """One SMTP session: connect (TLS as set), log in when a user is set, send, quit."""
    context = context or ssl.create_default_context()
    try:
        if email.security is EmailSecurity.ssl:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                email.host, email.port, timeout=email.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(email.host, email.port, timeout=email.timeout)
    except Exception as exc:  # no connection at all: the server, not this message
        error = failure(exc, email, password)
        error.unreachable = error.retry and isinstance(exc, OSError)
        raise error from exc
    try:
        with smtp:
            if email.security is EmailSecurity.starttls:
                smtp.starttls(context=context)
            if email.user is not None and password is not None:
                login(smtp, email.user, password)
            smtp.send_message(mail, from_addr=email.sender, to_addrs=[to])
    except Exception as exc:
        raise failure(exc, email, password) from exc


def login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """Sign in. smtplib sends credentials as ASCII only; AUTH PLAIN takes UTF-8 (RFC 4616),
    so a user or password with a letter like "ä" signs in that way."""
    if (user + password).isascii():
        smtp.login(user, password)
        return
    smtp.ehlo_or_helo_if_needed()
    if "plain" not in smtp.esmtp_features.get("auth", "").lower().split():
        raise smtplib.SMTPException("it offers no AUTH PLAIN, needed for a non-ASCII password")
    token = base64.b64encode(f"\0{user}\0{password}".encode()).decode("ascii")
    code, reply = smtp.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def failure(exc: Exception, email: Email, password: str | None) -> DeliveryError:
    """What went wrong, in words, and whether another try may help."""
    server = f"the SMTP server {email.host}:{email.port}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        said = "; ".join(
            f"{to}: {code} {_text(reply)}" for to, (code, reply) in exc.recipients.items()
        )
        error = _said(
            f"{server} refused the recipient ({said})", all(400 <= c < 500 for c in codes)
        )
        error.refused = not error.retry  # 550 no such mailbox: this message, for good
        return error
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        said = f"{exc.smtp_code} {_text(exc.smtp_error)}"
        return _said(
            f"{server} refused the login of {email.user} ({said})", exc.smtp_code < 500, password
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        said = f"{exc.smtp_code} {_text(exc.smtp_error)}"
        error = _said(f"{server} answered {said}", 400 <= exc.smtp_code < 500, password)
        error.refused = exc.smtp_code >= 500  # e.g. 554 message rejected
        return error
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return _said(f"{server} closed the connection ({exc})", True, password)
    if isinstance(exc, smtplib.SMTPException):  # e.g. no AUTH offered, no STARTTLS
        return _said(f"{server}: {exc}", False, password)
    # SMTP's errors above and TLS's are OSErrors too, so these come last.
    if isinstance(exc, ssl.SSLError):  # a certificate that does not verify stays so
        return _said(f"TLS with {server} failed ({exc})", False, password)
    if isinstance(exc, TimeoutError):
        return _said(f"{server} did not answer within {email.timeout:g} s", True, password)
    if isinstance(exc, OSError):
        return _said(f"cannot reach {server} ({exc})", True, password)
    return _said(f"{type(exc).__name__} with {server}: {exc}", False, password)


def _said(text: str, retry: bool, password: str | None = None) -> DeliveryError:
    if password:
        text = text.replace(password, "***")
    return DeliveryError(text, retry=retry)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply

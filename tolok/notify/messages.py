"""What is sent and to whom: a message in one language, and a recipient resolved to an
address, a way to reach it and a language."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Way(StrEnum):
    email = "email"
    slack = "slack"  # a webhook taking Slack's {"text", "blocks"}
    signed = "signed"  # a webhook taking tolok's JSON, signed with HMAC-SHA256


@dataclass(frozen=True)
class Recipient:
    """One address to send to, in one language. `channel` is the name it was reached by
    (a channel, "owner", or the address itself) and shows in the delivery log."""

    channel: str
    way: Way
    address: str  # an e-mail address or a webhook URL
    locale: str  # en | id
    secret: str | None = None  # a signed webhook's key (read from the environment)
    name: str | None = None  # a person's name, for "Dear …"

    @property
    def shown(self) -> str:
        """The address as the delivery log shows it: a webhook's host only (its path is
        often a secret, as Slack's are)."""
        if self.way is Way.email:
            return self.address
        from urllib.parse import urlsplit

        return urlsplit(self.address).netloc


@dataclass(frozen=True)
class Image:
    cid: str  # referred to in the HTML as src="cid:…"
    png: bytes
    alt: str


@dataclass(frozen=True)
class Attachment:
    filename: str
    mime: str  # e.g. application/pdf
    data: bytes


@dataclass(frozen=True)
class Message:
    """One message in one language, ready for any way of sending: e-mail takes the subject,
    text, HTML, inline images and attachments; a Slack webhook the text and `blocks`; a
    signed webhook `payload` (with subject and text added)."""

    kind: str  # alert, resolved, digest, report, test
    subject: str
    text: str
    html: str | None = None
    images: list[Image] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    blocks: list[dict[str, Any]] = field(default_factory=list)
    payload: dict[str, Any] = field(default_factory=dict)


def slack_escape(text: str) -> str:
    """Slack's three escapes: its mrkdwn reads <, > and & as markup (`<!channel>` pings)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

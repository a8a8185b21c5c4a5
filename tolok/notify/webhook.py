"""Webhooks: Slack's `{"text", "blocks"}` (which Mattermost, Rocket.Chat and Discord's
/slack endpoint also take), or tolok's own JSON signed with HMAC-SHA256.

The signature covers `"{timestamp}.{body}"`, as Stripe's and Slack's own do: a receiver
holding the secret recomputes it over the raw body it got, and refuses an old timestamp,
so a request that leaked cannot be replayed later.

    expected = hmac.new(secret, f"{timestamp}.".encode() + body, "sha256").hexdigest()
    hmac.compare_digest(request.headers["X-Tolok-Signature"], f"sha256={expected}")

Timeouts, broken connections, HTTP 429 and 5xx may pass on a later try; any other answer
(a 404: the hook was deleted) will not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import ssl
from collections.abc import Callable
from typing import Any

import httpx

import tolok
from tolok.notify.channels import Attempt, DeliveryError, shown_address
from tolok.notify.messages import Message, Recipient, Way, slack_escape

TIMEOUT = 10.0  # seconds, for each of connecting, writing and reading
SNIPPET = 200  # characters of a refusal's body kept in the log (Slack says why in it)


def prepare(
    recipient: Recipient,
    message: Message,
    delivery: str,
    context: ssl.SSLContext | None,
    now: Callable[[], dt.datetime],
) -> Attempt:
    """One attempt at posting `message` to the recipient's webhook. A signed body carries
    the time it is sent, so it is made afresh for each attempt."""
    if recipient.way is Way.signed and not recipient.secret:
        raise DeliveryError(
            "a signed webhook needs its secret: set the variable named in the channel's "
            "`secret_env`",
            retry=False,
        )

    def attempt() -> None:
        at = now().replace(tzinfo=dt.UTC)
        if recipient.way is Way.slack:
            body, headers = slack_request(message)
        else:
            assert recipient.secret is not None
            body, headers = signed_request(message, delivery, recipient.secret, at)
        post(recipient, body, headers, context)

    return attempt


def _headers() -> dict[str, str]:
    return {"Content-Type": "application/json", "User-Agent": f"tolok/{tolok.__version__}"}


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def slack_request(message: Message) -> tuple[bytes, dict[str, str]]:
    """Slack's incoming-webhook body: the text, and the blocks when there are any (Slack
    shows the text in notifications and the blocks in the channel)."""
    payload: dict[str, Any] = {
        "text": slack_escape(message.text)
    }  # escaped: `<!channel>` in a note pings nobody
    if message.blocks:
        payload["blocks"] = message.blocks
    return _json(payload), _headers()


def signed_request(
    message: Message, delivery: str, secret: str, at: dt.datetime
) -> tuple[bytes, dict[str, str]]:
    """tolok's JSON (the message's payload with kind, subject, text, the delivery id and
    the time) and the headers that let a receiver check it came from this tolok."""
    sent_at = at.astimezone(dt.UTC).isoformat(timespec="seconds")
    body = _json({**message.payload, "kind": message.kind, "subject": message.subject,
                  "text": message.text, "delivery": delivery, "sent_at": sent_at})  # fmt: skip
    timestamp = str(int(at.timestamp()))
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    headers = _headers() | {
        "X-Tolok-Delivery": delivery,
        "X-Tolok-Timestamp": timestamp,
        "X-Tolok-Signature": f"sha256={signature.hexdigest()}",
    }
    return body, headers


def post(
    recipient: Recipient,
    body: bytes,
    headers: dict[str, str],
    context: ssl.SSLContext | None,
) -> None:
    """One POST. Redirects are not followed: a hook that moved should be set anew, and a
    redirect would send the body somewhere not chosen."""
    host = shown_address(recipient)
    try:
        with httpx.Client(timeout=TIMEOUT, verify=context or True) as client:
            response = client.post(recipient.address, content=body, headers=headers)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:  # no connection: the host
        text = f"cannot reach {host} ({type(exc).__name__}: {exc})"
        raise DeliveryError(text, retry=True, unreachable=True) from exc
    except httpx.TimeoutException as exc:
        raise DeliveryError(f"{host} did not answer within {TIMEOUT:g} s", retry=True) from exc
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise DeliveryError(f"the webhook address of {host} is not usable", retry=False) from exc
    except httpx.TransportError as exc:
        text = f"{host} broke off ({type(exc).__name__}: {exc})"
        raise DeliveryError(text, retry=True) from exc
    code = response.status_code
    if 200 <= code < 300:
        return
    if code == 429 or code >= 500:
        raise DeliveryError(f"HTTP {code} from {host}", retry=True, wait=retry_after(response))
    said = response.text.strip()[:SNIPPET]
    text = f"HTTP {code} from {host}" + (f": {said}" if said else "")
    # A hook gone (404) or a payload it will never take (400) is refused for good; a key
    # or token not accepted (401, 403) is a setting to fix, and the message may pass then.
    raise DeliveryError(text, retry=False, refused=code not in (401, 403, 408))


def retry_after(response: httpx.Response, now: dt.datetime | None = None) -> float | None:
    """The seconds a server asked to wait: a number, or an HTTP date (RFC 9110) counted
    from `now` (UTC); None when it said neither."""
    from email.utils import parsedate_to_datetime

    value = response.headers.get("Retry-After", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        moment = now.replace(tzinfo=dt.UTC) if now else dt.datetime.now(dt.UTC)
        return max(0.0, (when - moment).total_seconds())
    return seconds if seconds >= 0 else None

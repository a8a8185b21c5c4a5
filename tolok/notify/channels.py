"""Sending one message to one recipient, once: by e-mail or webhook, with retries, and a row
in the delivery log for every message (sent or failed).

Alerts and digests are worked out again on every run, and a run may die half-way through
(a deploy, a killed container). So each message has a key naming what it is (the alert and
its event, the schedule and its run): a row in `deliveries` is claimed under that key before
anything goes out, and a message whose row says "sent" is never sent again.

    sender = Sender(engine, project.email)
    sender.send("alert:conversion-slips:41", recipient, message)   # "sent"
    sender.send("alert:conversion-slips:41", recipient, message)   # "already sent"

The ways of sending live in `tolok.notify.mail` and `tolok.notify.webhook`; both report
trouble as a `DeliveryError` that says whether trying again can help.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from tolok.notify.messages import Message, Recipient, Way
from tolok.spec.sharing import Email
from tolok.store.sharing import Delivery

log = logging.getLogger("tolok.notify")

SENT = "sent"
ALREADY_SENT = "already sent"
FAILED = "failed"  # may pass later: a server down, a setting missing (tried again later)
REFUSED = "refused"  # the other side refused this message for good: not tried again
IN_FLIGHT_NOW = "in flight"  # another process is sending it right now
LONGEST_KEY = 600  # the width of deliveries.key
LONGEST_WAIT = 60.0  # seconds: a Retry-After beyond this is not honoured in full
RESTING = dt.timedelta(minutes=5)
"""How long a server that failed every attempt is left alone by this process."""
IN_FLIGHT = dt.timedelta(minutes=10)
"""A row "sending" for less than this is another live process's (all its attempts, waits and
timeouts fit well inside); an older one was left by a process that died."""


class DeliveryError(Exception):
    """Why an attempt failed, in words for the delivery log (never a secret). `retry` says
    whether another attempt may succeed (a timeout, HTTP 503, SMTP 421) or cannot (HTTP 404,
    SMTP 550, a wrong password); `wait` is the seconds the other side asked for."""

    def __init__(
        self,
        text: str,
        *,
        retry: bool,
        wait: float | None = None,
        unreachable: bool = False,
        refused: bool = False,
    ) -> None:
        super().__init__(text)
        self.text = text
        self.retry = retry
        self.unreachable = unreachable  # no connection at all: the server, not this message
        self.refused = refused  # the other side said no to this message for good (550, 404)
        self.wait = wait


@dataclass(frozen=True)
class DeliveryRow:
    """One row of the delivery log, as the admin page and the API show it."""

    id: int
    key: str
    kind: str
    channel: str
    address: str
    subject: str
    status: str
    attempts: int
    error: str | None
    created_at: dt.datetime
    claimed_at: dt.datetime | None
    sent_at: dt.datetime | None


@dataclass(frozen=True)
class _Claim:
    """A delivery row this process holds: it made the `attempts`-th attempt count."""

    id: int
    attempts: int
    delivery: str  # the short id receivers see, the same on every attempt


Attempt = Callable[[], None]


def utc_now() -> dt.datetime:
    """UTC without a time zone, as the store keeps times."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def stored_key(key: str, recipient: Recipient) -> str:
    """The key of one message to one recipient. A webhook's URL is hashed, not kept: Slack's
    carry their secret in the path. Keys longer than the column are hashed whole."""
    address = recipient.address
    if recipient.way is not Way.email:
        address = "sha256:" + hashlib.sha256(address.encode()).hexdigest()
    whole = f"{key}\x1f{recipient.channel}\x1f{address}"
    if len(whole) > LONGEST_KEY:
        return "sha256:" + hashlib.sha256(whole.encode()).hexdigest()
    return whole


def shown_address(recipient: Recipient) -> str:
    """The address for the log: an e-mail address, or a webhook's host (and port) without
    its path or any user:password@ in front."""
    return recipient.shown.rpartition("@")[2] if recipient.way is not Way.email else recipient.shown


def scrub(text: str, secrets: list[str | None]) -> str:
    """`text` with every secret in it blotted out, so that an error message quoting a URL or
    a server's echo never puts a secret in the log."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class Sender:
    """Sends messages, each once, retrying what may pass on a second try.

    `attempts` counts all tries of one `send`; between them it waits `backoff * 2**n`
    seconds (2, 4, 8 …), or what a server's Retry-After asks (60 s at most). `sleep`, `now`
    and `ssl_context` are there for tests (and for a private certificate authority).
    """

    def __init__(
        self,
        engine: Engine,
        email: Email | None,
        *,
        attempts: int = 4,
        backoff: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        ssl_context: ssl.SSLContext | None = None,
        now: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.engine = engine
        self.email = email
        self.attempts = attempts
        self.backoff = backoff
        self.sleep = sleep
        self.ssl_context = ssl_context
        self.now = now
        self._down: dict[str, dt.datetime] = {}
        """Servers that failed every attempt, until when they are left alone."""

    def _server(self, recipient: Recipient) -> str:
        if recipient.way is Way.email:
            return f"smtp://{self.email.host}:{self.email.port}" if self.email else "smtp"
        return shown_address(recipient)

    def send(self, key: str, recipient: Recipient, message: Message) -> str:
        """Send once: returns "sent", "already sent", "in flight" (another process is sending
        it right now: claimed less than `IN_FLIGHT` ago), "refused" (the other side said no
        for good, now or before) or "failed" (it may pass later). A row left "sending" longer
        than `IN_FLIGHT` by a run that died, or "failed", is tried again (its attempts go on
        counting)."""
        claim = self._claim(stored_key(key, recipient), recipient, message)
        if isinstance(claim, str):
            return claim
        return self._deliver(claim, recipient, message)

    def _claim(self, key: str, recipient: Recipient, message: Message) -> _Claim | str:
        delivery = hashlib.sha256(key.encode()).hexdigest()[:16]
        with self.engine.connect() as connection:
            row = _row(connection, key)
        if row is None:
            try:
                with self.engine.begin() as connection:
                    new = connection.execute(insert(Delivery).values(
                        key=key, kind=message.kind[:20], channel=recipient.channel[:200],
                        address=shown_address(recipient)[:600], subject=message.subject[:1000],
                        status="sending", attempts=1, created_at=self.now(),
                        claimed_at=self.now()))  # fmt: skip
                    assert new.inserted_primary_key is not None
                    return _Claim(int(new.inserted_primary_key[0]), 1, delivery)
            except IntegrityError:  # another process claimed it in between: it sends
                with self.engine.connect() as connection:
                    row = _row(connection, key)
                if row is None or row.status not in (FAILED, SENT):
                    return IN_FLIGHT_NOW
        if row.status == SENT:
            return ALREADY_SENT
        if row.status == REFUSED:
            return REFUSED
        busy = row.status == "sending" and row.claimed_at is not None
        if busy and row.claimed_at is not None and row.claimed_at > self.now() - IN_FLIGHT:
            return IN_FLIGHT_NOW  # another process is sending it right now
        attempts = self._take(row.id, row.attempts, reclaim=True)
        return _Claim(row.id, attempts, delivery) if attempts else IN_FLIGHT_NOW

    def _take(self, id_: int, seen: int, *, reclaim: bool = False) -> int:
        """Count one more attempt on a row, if it still has the count this process saw; 0
        when another process has taken it over meanwhile (it sends, not this one)."""
        values: dict[str, object] = {"attempts": seen + 1}
        if reclaim:
            values.update(status="sending", error=None, claimed_at=self.now())
        with self.engine.begin() as connection:
            done = connection.execute(
                update(Delivery).where(Delivery.id == id_, Delivery.attempts == seen).values(values)
            )
        return seen + 1 if done.rowcount == 1 else 0

    def _deliver(self, claim: _Claim, recipient: Recipient, message: Message) -> str:
        held: _Claim | None = claim
        server = self._server(recipient)
        down = self._down.get(server)
        try:
            if down is not None and self.now() < down:
                # It failed every attempt a moment ago: the next check tries again, rather
                # than a digest to a hundred people waiting a hundred times on it now.
                raise DeliveryError(f"{server} was unreachable moments ago", retry=False)
            held, error = self._try(claim, self._prepare(recipient, message, claim.delivery))
        except DeliveryError as exc:  # nothing can be sent: no settings, no password
            error = exc
        except Exception as exc:
            error = _unexpected(exc, claim.delivery)
        if error is not None and error.unreachable and held is not None:
            self._down[server] = self.now() + RESTING
        if held is None:  # another process took the row over while this one waited
            return IN_FLIGHT_NOW
        if error is None:
            self._finish(held, SENT, None)
            return SENT
        text = error.text + (f" after {held.attempts} attempts" if error.retry else "")
        if recipient.way is not Way.email:  # a library quoting the URL shows its host only
            text = text.replace(recipient.address, shown_address(recipient))
        text = scrub(text, [recipient.secret])
        status = REFUSED if error.refused else FAILED
        self._finish(held, status, text)
        log.warning("could not send %r to %s: %s", message.subject, shown_address(recipient), text)
        return status

    def _try(self, claim: _Claim, attempt: Attempt) -> tuple[_Claim | None, DeliveryError | None]:
        """Attempt until sent, refused for good, or out of attempts; the claim comes back
        None when another process took the row over while this one waited."""
        error: DeliveryError | None = None
        for n in range(self.attempts):
            if error is not None:
                wait = error.wait if error.wait is not None else self.backoff * 2 ** (n - 1)
                self.sleep(min(LONGEST_WAIT, wait))
                attempts = self._take(claim.id, claim.attempts)
                if not attempts:
                    return None, None
                claim = _Claim(claim.id, attempts, claim.delivery)
            try:
                attempt()
            except DeliveryError as exc:
                error = exc
            except Exception as exc:
                error = _unexpected(exc, claim.delivery)
            else:
                return claim, None
            if not error.retry:
                break
        return claim, error

    def _prepare(self, recipient: Recipient, message: Message, delivery: str) -> Attempt:
        """What one attempt does, with everything that need not be repeated done once (the
        e-mail composed, its password read)."""
        if recipient.way is Way.email:
            from tolok.notify import mail

            return mail.prepare(
                self.email, recipient, message, delivery, self.ssl_context, self.now
            )
        from tolok.notify import webhook

        return webhook.prepare(recipient, message, delivery, self.ssl_context, self.now)

    def _finish(self, claim: _Claim, status: str, error: str | None) -> None:
        """Write the outcome. A failure is only written while this process still holds the
        row; that it was sent is always true, whoever holds it."""
        statement = update(Delivery).where(Delivery.id == claim.id)
        if status in (FAILED, REFUSED):
            statement = statement.where(Delivery.attempts == claim.attempts)
        sent_at = self.now() if status == SENT else None
        with self.engine.begin() as connection:
            connection.execute(statement.values(status=status, error=error, sent_at=sent_at))


def _unexpected(exc: Exception, delivery: str) -> DeliveryError:
    """A fault of ours or of a library's: logged with its traceback, written to the delivery
    log as failed, and the run goes on to the next recipient."""
    log.warning("delivery %s failed unexpectedly", delivery, exc_info=True)
    return DeliveryError(f"{type(exc).__name__}: {exc}", retry=False)


def _row(connection: Connection, key: str) -> DeliveryRow | None:
    found = connection.execute(select(Delivery.__table__).where(Delivery.key == key)).first()
    return DeliveryRow(**found._asdict()) if found else None


def delivery_log(
    engine: Engine, limit: int = 50, offset: int = 0, status: str | None = None
) -> list[DeliveryRow]:
    """The delivery log, newest first, a page at a time; only one status when given
    ("failed" is what an admin looks for)."""
    query = select(Delivery.__table__).order_by(Delivery.created_at.desc(), Delivery.id.desc())
    if status is not None:
        query = query.where(Delivery.status == status)
    with engine.connect() as connection:
        rows = connection.execute(query.limit(limit).offset(offset)).all()
    return [DeliveryRow(**row._asdict()) for row in rows]

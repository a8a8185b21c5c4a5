"""`Idempotency-Key` on ingestion: a client that did not hear the answer sends the same
rows again with the same key and gets the first answer again, flagged with the header
`Idempotent-Replayed: true`, and nothing is written twice. The same key with other rows
(or for another dataset) is refused with 409: a key names one request.

A key belongs to its user (two clients may both send "1"). Only answers that were given
(200) are kept: a request refused for bad rows wrote nothing, so it may be fixed and sent
again under the same key. Keys are kept a day (`KEPT`), then swept; a retry after that is
still harmless, as the warehouse table recognises the same key with the same rows again
(see `tolok.engine.ingest`), but its answer is the warehouse's, not the first one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tolok.auth.accounts import now
from tolok.server.errors import ApiError
from tolok.store.people import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
KEPT = dt.timedelta(hours=24)
LONGEST = 255


@dataclass(frozen=True)
class KeyedRequest:
    """An ingestion request sent with a key: whose, which key, where to, and what."""

    user_id: int
    key: str
    dataset: str
    body_hash: str

    @classmethod
    def of(cls, user_id: int, key: str, dataset: str, kind: str, body: bytes) -> KeyedRequest:
        """The request, once its key is checked; the body's hash covers its media type
        (the same rows as CSV and as JSON are two different bodies)."""
        key = key.strip()
        if not key or len(key) > LONGEST or not key.isprintable() or not key.isascii():
            raise ApiError(400, f"an {HEADER} is 1 to {LONGEST} printable ASCII characters "
                           "(a UUID is a good one)", HEADER)  # fmt: skip
        hashed = hashlib.sha256(kind.encode() + b"\n" + body).hexdigest()
        return cls(user_id, key, dataset, hashed)

    @property
    def engine_key(self) -> str:
        """What the warehouse recognises a repeat by: one user's key (see `ingest`)."""
        return f"{self.user_id}:{self.key}"


def recall(engine: Engine, request: KeyedRequest) -> dict[str, Any] | None:
    """The answer the first request with this key got, None when the key is new (or was
    swept); 409 when the key came with another request."""
    with Session(engine) as session:
        record = _find(session, request)
        if record is None or record.created_at <= now() - KEPT:
            return None
        return _answer_of(record, request)


def remember(engine: Engine, request: KeyedRequest, answer: dict[str, Any]) -> dict[str, Any]:
    """Keep the answer to this key (and sweep the keys of more than a day ago). When a
    request with the same key was answered meanwhile (sent twice at once), the answer is
    that one's, as if this request had come second."""
    text = json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
    try:
        with Session(engine) as session, session.begin():
            session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at <= now() - KEPT))
            session.add(IdempotencyKey(
                user_id=request.user_id, key=request.key, dataset=request.dataset,
                body_hash=request.body_hash, answer=text, created_at=now()))  # fmt: skip
    except IntegrityError:
        first = recall(engine, request)
        if first is not None:
            return first
        raise
    return answer


def _find(session: Session, request: KeyedRequest) -> IdempotencyKey | None:
    return session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.user_id == request.user_id, IdempotencyKey.key == request.key
        )
    )


def _answer_of(record: IdempotencyKey, request: KeyedRequest) -> dict[str, Any]:
    at = record.created_at.replace(tzinfo=dt.UTC).isoformat(timespec="seconds")
    if record.dataset != request.dataset:
        raise ApiError(409, f"this {HEADER} was used at {at} for rows into '{record.dataset}': "
                       "send these rows with a new key", HEADER)  # fmt: skip
    if record.body_hash != request.body_hash:
        raise ApiError(409, f"this {HEADER} was used at {at} with other rows: to send new "
                       "rows, use a new key; to retry, send the very same body again",
                       HEADER)  # fmt: skip
    answer: dict[str, Any] = json.loads(record.answer)
    return answer

"""Secrets handed out once (tokens, share links, sessions), kept only as their SHA-256."""

from __future__ import annotations

import hashlib
import hmac
import secrets as stdlib


def new_secret(prefix: str) -> tuple[str, str, str]:
    """A fresh secret, the part of it safe to show in lists, and its digest."""
    secret = f"{prefix}_{stdlib.token_urlsafe(32)}"
    return secret, secret[: len(prefix) + 7], digest(secret)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def password(length: int = 20) -> str:
    """A password to print once, easy to copy (no look-alike characters)."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(stdlib.choice(alphabet) for _ in range(length))

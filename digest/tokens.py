"""Signed tokens for links in mails and feeds, one purpose each.

A token names a subscriber and their current nonce, signed with the service's secret and a
salt per purpose, so a feed token cannot unsubscribe and an unsubscribe token cannot manage.
Rotating the subscriber's nonce revokes every token they hold. Confirm tokens also carry a
timestamp and expire. itsdangerous compares signatures in constant time.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from itsdangerous import BadData, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from digest.errors import DigestError


class Purpose(enum.StrEnum):
    """What a token allows."""

    CONFIRM = "confirm"
    MANAGE = "manage"
    UNSUBSCRIBE = "unsubscribe"
    FEED = "feed"


class TokenError(DigestError):
    """A token is malformed, forged, for another purpose, revoked or expired."""


@dataclass(frozen=True, slots=True)
class TokenSubject:
    """Whom a valid token is about."""

    subscriber_id: int
    nonce: str


def new_nonce() -> str:
    """A fresh 128-bit random nonce."""
    return secrets.token_hex(16)


@lru_cache(maxsize=16)
def _plain_serializer(secret: str, purpose: Purpose) -> URLSafeSerializer:
    # Built once per (secret, purpose): a digest run makes several tokens per mail.
    return URLSafeSerializer(secret, salt=f"digest.{purpose}")


def _serializer(
    secret: str, purpose: Purpose, now: datetime | None
) -> URLSafeSerializer | URLSafeTimedSerializer:
    if purpose is not Purpose.CONFIRM:
        # Tokens that do not expire carry no timestamp: the same subscriber and nonce give
        # the same token, so a private feed URL stays put from one mail to the next.
        return _plain_serializer(secret, purpose)
    serializer = URLSafeTimedSerializer(secret, salt=f"digest.{purpose}")
    if now is not None:
        stamp = int(now.timestamp())
        signer_class = serializer.signer

        class _FixedClock(signer_class):  # type: ignore[misc, valid-type]
            def get_timestamp(self) -> int:
                return stamp

        serializer.signer = _FixedClock
    return serializer


def make_token(
    secret: str, purpose: Purpose, subject: TokenSubject, *, now: datetime | None = None
) -> str:
    """A URL-safe token for `purpose` about `subject` (timestamped with `now`)."""
    return _serializer(secret, purpose, now).dumps([subject.subscriber_id, subject.nonce])


def read_token(
    secret: str,
    purpose: Purpose,
    token: str,
    *,
    now: datetime | None = None,
    max_age_seconds: int | None = None,
) -> TokenSubject:
    """Verify a token for `purpose`; raises TokenError. The caller checks the nonce is current."""
    if not token or len(token) > 512:
        raise TokenError("invalid token")
    try:
        serializer = _serializer(secret, purpose, now)
        if isinstance(serializer, URLSafeTimedSerializer):
            payload = serializer.loads(token, max_age=max_age_seconds)
        else:
            payload = serializer.loads(token)
    except SignatureExpired as exc:
        raise TokenError("this link has expired") from exc
    except BadData as exc:
        raise TokenError("invalid token") from exc
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or not isinstance(payload[0], int)
        or not isinstance(payload[1], str)
    ):
        raise TokenError("invalid token")
    return TokenSubject(subscriber_id=payload[0], nonce=payload[1])

"""Links that act for a subscriber: tokens resolved to subscribers, revoked, and one-click
unsubscribe.

A token is valid when its signature holds for its purpose and its nonce is the subscriber's
current one; anything else (forged, another purpose, revoked, the subscriber gone) is the
same TokenError, so a caller cannot tell a revoked token from one that never existed.
"""

from __future__ import annotations

import hmac
import logging
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from digest.errors import NotFoundError
from digest.models import SubscriberInfo
from digest.store import subscribers
from digest.store.db import reading, transaction
from digest.tokens import Purpose, TokenError, new_nonce, read_token

log = logging.getLogger(__name__)

SUPPRESSED = frozenset({"unsubscribed", "bounced", "complained"})
ONE_CLICK_REASON = "one-click unsubscribe"


def subscriber_for_token(
    engine: Engine, token: str, *, purpose: Purpose, secret: str
) -> SubscriberInfo:
    """The subscriber a token of `purpose` speaks for; raises TokenError."""
    with reading(engine) as session:
        return _resolve(session, token, purpose=purpose, secret=secret)


def unsubscribe(engine: Engine, token: str, *, secret: str, now: datetime) -> SubscriberInfo:
    """Suppress the address an unsubscribe token names (again is fine); raises TokenError."""
    with transaction(engine) as session:
        info = _resolve(session, token, purpose=Purpose.UNSUBSCRIBE, secret=secret)
        if info.status not in SUPPRESSED:  # a bounce or complaint already suppresses, and says more
            subscribers.set_status(
                session, info.id, status="unsubscribed", now=now, reason=ONE_CLICK_REASON
            )
            log.info("unsubscribe: subscriber=%d", info.id)
        updated = subscribers.get_subscriber(session, info.id)
    assert updated is not None
    return updated


def revoke_tokens(engine: Engine, subscriber_id: int) -> SubscriberInfo:
    """Give a subscriber a new nonce: every link they hold stops working at once."""
    with transaction(engine) as session:
        if not subscribers.set_token_nonce(session, subscriber_id, new_nonce()):
            raise NotFoundError(f"no subscriber {subscriber_id}")
        info = subscribers.get_subscriber(session, subscriber_id)
    assert info is not None
    return info


def _resolve(session: Session, token: str, *, purpose: Purpose, secret: str) -> SubscriberInfo:
    subject = read_token(secret, purpose, token)
    info = subscribers.get_subscriber(session, subject.subscriber_id)
    if info is None or not hmac.compare_digest(info.token_nonce.encode(), subject.nonce.encode()):
        raise TokenError("invalid token")
    return info

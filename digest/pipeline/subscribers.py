"""Managing subscribers and their alerts: validation here, SQL in the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.engine import Engine

from digest.config import Settings
from digest.errors import InputError, NotFoundError
from digest.models import SubscriberInfo
from digest.rank.query import parse_query
from digest.store import subscribers
from digest.store.db import reading, transaction
from digest.tokens import new_nonce

FREQUENCIES = ("daily", "weekly")
MAX_PAPERS_LIMIT = 200


@dataclass(frozen=True, slots=True)
class Preferences:
    """What a subscriber chooses about their digest; None keeps the default or current value."""

    timezone: str | None = None
    send_hour: int | None = None
    frequency: str | None = None
    max_papers: int | None = None
    include_trending: bool | None = None


def normalize_email(address: str) -> str:
    """A syntactically valid address, lower-cased; refuses line breaks and nonsense."""
    if any(char in address for char in "\r\n\x00"):
        raise InputError("email", "line breaks are not allowed in an address")
    try:
        valid = validate_email(address.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InputError("email", str(exc)) from exc
    return valid.normalized.lower()


def check_alert(query: str) -> str:
    """The alert as it will be stored; raises QueryError saying what is wrong and where."""
    parse_query(query)
    return query.strip()


def _check_preferences(prefs: Preferences) -> None:
    if prefs.timezone is not None:
        try:
            ZoneInfo(prefs.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InputError("timezone", f"unknown time zone {prefs.timezone!r}") from exc
    if prefs.send_hour is not None and not 0 <= prefs.send_hour <= 23:
        raise InputError("send_hour", "must be an hour from 0 to 23")
    if prefs.frequency is not None and prefs.frequency not in FREQUENCIES:
        raise InputError("frequency", "must be daily or weekly")
    if prefs.max_papers is not None and not 1 <= prefs.max_papers <= MAX_PAPERS_LIMIT:
        raise InputError("max_papers", f"must be from 1 to {MAX_PAPERS_LIMIT}")


def add_subscriber(
    engine: Engine,
    email: str,
    *,
    alerts: list[str],
    settings: Settings,
    now: datetime,
    status: str = "active",
    prefs: Preferences | None = None,
) -> SubscriberInfo:
    """Create a subscriber with alerts; refuses a known address, bad alerts or settings."""
    address = normalize_email(email)
    queries = list(dict.fromkeys(check_alert(query) for query in alerts))
    if len(queries) > settings.max_alerts_per_subscriber:
        raise InputError("alerts", f"at most {settings.max_alerts_per_subscriber} alerts")
    prefs = prefs or Preferences()
    _check_preferences(prefs)
    with transaction(engine) as session:
        if subscribers.find_id(session, address) is not None:
            raise InputError("email", f"{address} is already subscribed")
        subscriber_id = subscribers.add_subscriber(
            session,
            email=address,
            status=status,
            now=now,
            timezone=prefs.timezone or "UTC",
            send_hour=settings.default_send_hour if prefs.send_hour is None else prefs.send_hour,
            frequency=prefs.frequency or "daily",
            max_papers=prefs.max_papers or settings.default_max_papers,
            include_trending=True if prefs.include_trending is None else prefs.include_trending,
            token_nonce=new_nonce(),
        )
        for query in queries:
            subscribers.add_alert(session, subscriber_id, query, now=now)
        info = subscribers.get_subscriber(session, subscriber_id)
    assert info is not None
    return info


def find_subscriber(engine: Engine, email: str) -> SubscriberInfo:
    """The subscriber with this address; raises NotFoundError."""
    address = normalize_email(email)
    with reading(engine) as session:
        subscriber_id = subscribers.find_id(session, address)
        info = None if subscriber_id is None else subscribers.get_subscriber(session, subscriber_id)
    if info is None:
        raise NotFoundError(f"no subscriber {address}")
    return info


def list_subscribers(engine: Engine, *, status: str | None = None) -> list[SubscriberInfo]:
    """All subscribers (of a status), with their alerts."""
    with reading(engine) as session:
        return subscribers.list_subscribers(session, statuses=None if status is None else [status])


def remove_subscriber(engine: Engine, email: str) -> None:
    """Delete a subscriber and all that is theirs; raises NotFoundError."""
    info = find_subscriber(engine, email)
    with transaction(engine) as session:
        subscribers.delete_subscriber(session, info.id)


def add_alert(
    engine: Engine, email: str, query: str, *, settings: Settings, now: datetime
) -> SubscriberInfo:
    """Give a subscriber one more alert (a repeat of an existing one changes nothing)."""
    text = check_alert(query)
    info = find_subscriber(engine, email)
    if len(info.alerts) >= settings.max_alerts_per_subscriber and text not in {
        alert.query for alert in info.alerts
    }:
        raise InputError("alerts", f"at most {settings.max_alerts_per_subscriber} alerts")
    with transaction(engine) as session:
        subscribers.add_alert(session, info.id, text, now=now)
        updated = subscribers.get_subscriber(session, info.id)
    assert updated is not None
    return updated


def remove_alert(engine: Engine, email: str, query: str) -> SubscriberInfo:
    """Remove one of a subscriber's alerts; raises NotFoundError if they have no such alert."""
    info = find_subscriber(engine, email)
    with transaction(engine) as session:
        if not subscribers.remove_alert(session, info.id, query.strip()):
            raise NotFoundError(f"{info.email} has no alert {query.strip()!r}")
        updated = subscribers.get_subscriber(session, info.id)
    assert updated is not None
    return updated

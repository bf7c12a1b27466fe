"""Managing subscribers and their alerts: validation here, SQL in the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from digest.config import Settings
from digest.errors import InputError, NotFoundError
from digest.models import SubscriberInfo
from digest.rank.query import parse_query
from digest.store import subscribers
from digest.store.db import reading, transaction
from digest.tokens import new_nonce

FREQUENCIES = ("daily", "weekly")
STATUSES = ("pending", "active", "unsubscribed", "bounced", "complained")
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
    # Runs of spaces mean nothing to the language; collapsing them makes `skin  lesion` a
    # repeat of `skin lesion` rather than a second alert, and lets remove find it either way.
    return " ".join(query.split())


def check_preferences(prefs: Preferences) -> None:
    """Refuse a preference out of range, naming the field."""
    if prefs.timezone is not None:
        try:
            ZoneInfo(prefs.timezone)
        # A folder of the zone database (`America`) raises IsADirectoryError, an OSError.
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise InputError("timezone", f"unknown time zone {prefs.timezone!r}") from exc
    if prefs.send_hour is not None and not 0 <= prefs.send_hour <= 23:
        raise InputError("send_hour", "must be an hour from 0 to 23")
    if prefs.frequency is not None and prefs.frequency not in FREQUENCIES:
        raise InputError("frequency", "must be daily or weekly")
    if prefs.max_papers is not None and not 1 <= prefs.max_papers <= MAX_PAPERS_LIMIT:
        raise InputError("max_papers", f"must be from 1 to {MAX_PAPERS_LIMIT}")


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise InputError("status", f"must be one of {', '.join(STATUSES)}")


def _too_many(settings: Settings) -> InputError:
    return InputError("alerts", f"at most {settings.max_alerts_per_subscriber} alerts")


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
        raise _too_many(settings)
    prefs = prefs or Preferences()
    check_preferences(prefs)
    _check_status(status)
    try:
        with transaction(engine) as session:
            if subscribers.find_id(session, address) is not None:
                raise InputError("email", f"{address} is already subscribed")
            subscriber_id = subscribers.add_subscriber(
                session,
                email=address,
                status=status,
                now=now,
                timezone=prefs.timezone or "UTC",
                send_hour=settings.default_send_hour
                if prefs.send_hour is None
                else prefs.send_hour,
                frequency=prefs.frequency or "daily",
                max_papers=prefs.max_papers or settings.default_max_papers,
                include_trending=True if prefs.include_trending is None else prefs.include_trending,
                token_nonce=new_nonce(),
            )
            for query in queries:
                subscribers.add_alert(session, subscriber_id, query, now=now)
            info = subscribers.get_subscriber(session, subscriber_id)
    except IntegrityError as exc:
        # Two requests for one new address at once: the unique index lets one through.
        raise InputError("email", f"{address} is already subscribed") from exc
    assert info is not None
    return info


def find_subscriber(engine: Engine, email: str) -> SubscriberInfo:
    """The subscriber with this address; raises NotFoundError."""
    address = normalize_email(email)
    with reading(engine) as session:
        return _find(session, address)


def _find(session: Session, address: str) -> SubscriberInfo:
    subscriber_id = subscribers.find_id(session, address)
    info = None if subscriber_id is None else subscribers.get_subscriber(session, subscriber_id)
    if info is None:
        raise NotFoundError(f"no subscriber {address}")
    return info


def list_subscribers(engine: Engine, *, status: str | None = None) -> list[SubscriberInfo]:
    """All subscribers (of a status), with their alerts; refuses an unknown status."""
    if status is not None:
        _check_status(status)
    with reading(engine) as session:
        return subscribers.list_subscribers(session, statuses=None if status is None else [status])


def update_preferences(engine: Engine, email: str, prefs: Preferences) -> SubscriberInfo:
    """Change the preferences that are given (not None); raises NotFoundError or InputError."""
    address = normalize_email(email)
    check_preferences(prefs)
    with transaction(engine) as session:
        info = _find(session, address)
        subscribers.update_preferences(
            session,
            info.id,
            timezone=prefs.timezone,
            send_hour=prefs.send_hour,
            frequency=prefs.frequency,
            max_papers=prefs.max_papers,
            include_trending=prefs.include_trending,
        )
        return _find(session, address)


def remove_subscriber(engine: Engine, email: str) -> None:
    """Delete a subscriber and all that is theirs; raises NotFoundError."""
    address = normalize_email(email)
    with transaction(engine) as session:
        if not subscribers.delete_subscriber(session, _find(session, address).id):
            raise NotFoundError(f"no subscriber {address}")


def add_alert(
    engine: Engine, email: str, query: str, *, settings: Settings, now: datetime
) -> SubscriberInfo:
    """Give a subscriber one more alert (a repeat of an existing one changes nothing)."""
    text = check_alert(query)
    address = normalize_email(email)
    try:
        with transaction(engine) as session:
            info = _find(session, address)
            if text in {alert.query for alert in info.alerts}:
                return info
            if len(info.alerts) >= settings.max_alerts_per_subscriber:
                raise _too_many(settings)
            subscribers.add_alert(session, info.id, text, now=now)
            return _find(session, address)
    except IntegrityError:
        # The same alert added at the same moment by another request: the outcome is the
        # same; a subscriber deleted meanwhile makes this a NotFoundError.
        return find_subscriber(engine, address)


def remove_alert(engine: Engine, email: str, query: str) -> SubscriberInfo:
    """Remove one of a subscriber's alerts; raises NotFoundError if they have no such alert."""
    text = " ".join(query.split())
    address = normalize_email(email)
    with transaction(engine) as session:
        info = _find(session, address)
        if not subscribers.remove_alert(session, info.id, text):
            raise NotFoundError(f"{info.email} has no alert {text!r}")
        return _find(session, address)

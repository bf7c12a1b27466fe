"""SQL for subscribers and their alerts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from digest.models import AlertInfo, SubscriberInfo
from digest.store.tables import Alert, Delivery, Subscriber


def add_subscriber(
    session: Session,
    *,
    email: str,
    status: str,
    now: datetime,
    timezone: str = "UTC",
    send_hour: int = 7,
    frequency: str = "daily",
    max_papers: int = 20,
    include_trending: bool = True,
    token_nonce: str = "",
) -> int:
    """Insert a subscriber; the caller has normalised and validated the address."""
    row = Subscriber(
        email=email,
        status=status,
        timezone=timezone,
        send_hour=send_hour,
        frequency=frequency,
        max_papers=max_papers,
        include_trending=include_trending,
        created_at=now,
        confirmed_at=now if status == "active" else None,
        token_nonce=token_nonce,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def find_id(session: Session, email: str) -> int | None:
    """The id of the subscriber with this (normalised) address."""
    return session.exec(select(Subscriber.id).where(Subscriber.email == email)).first()


def get_subscriber(session: Session, subscriber_id: int) -> SubscriberInfo | None:
    """One subscriber with their alerts."""
    row = session.get(Subscriber, subscriber_id)
    if row is None:
        return None
    return _info(row, _alerts_of(session, [subscriber_id]).get(subscriber_id, ()))


def list_subscribers(
    session: Session, *, statuses: Iterable[str] | None = None
) -> list[SubscriberInfo]:
    """Subscribers (optionally of some statuses) with their alerts, oldest first."""
    query = select(Subscriber).order_by(col(Subscriber.id))
    if statuses is not None:
        query = query.where(col(Subscriber.status).in_(list(statuses)))
    rows = list(session.exec(query))
    alerts = _alerts_of(session, [row.id for row in rows if row.id is not None])
    return [_info(row, alerts.get(row.id or 0, ())) for row in rows]


def update_preferences(
    session: Session,
    subscriber_id: int,
    *,
    timezone: str | None = None,
    send_hour: int | None = None,
    frequency: str | None = None,
    max_papers: int | None = None,
    include_trending: bool | None = None,
) -> bool:
    """Set the given (not None) preferences of a subscriber; False if there was none."""
    changes = {
        name: value
        for name, value in (
            ("timezone", timezone),
            ("send_hour", send_hour),
            ("frequency", frequency),
            ("max_papers", max_papers),
            ("include_trending", include_trending),
        )
        if value is not None
    }
    if not changes:  # nothing to set: still say whether the subscriber exists
        return session.get(Subscriber, subscriber_id) is not None
    result = session.execute(
        update(Subscriber).where(col(Subscriber.id) == subscriber_id).values(changes)
    )
    return bool(getattr(result, "rowcount", 0))


def delete_subscriber(session: Session, subscriber_id: int) -> bool:
    """Delete a subscriber and everything that is theirs; False if there was none."""
    session.execute(delete(Delivery).where(col(Delivery.subscriber_id) == subscriber_id))
    session.execute(delete(Alert).where(col(Alert.subscriber_id) == subscriber_id))
    result = session.execute(delete(Subscriber).where(col(Subscriber.id) == subscriber_id))
    return bool(getattr(result, "rowcount", 0))


def get_many(session: Session, ids: Iterable[int]) -> dict[int, SubscriberInfo]:
    """Subscribers by id, with their alerts (missing ids are left out)."""
    wanted = sorted(set(ids))
    rows: list[Subscriber] = []
    for start in range(0, len(wanted), 500):
        rows.extend(
            session.exec(
                select(Subscriber).where(col(Subscriber.id).in_(wanted[start : start + 500]))
            )
        )
    alerts = _alerts_of(session, [row.id for row in rows if row.id is not None])
    return {row.id: _info(row, alerts.get(row.id, ())) for row in rows if row.id is not None}


def set_status(
    session: Session, subscriber_id: int, *, status: str, now: datetime, reason: str | None = None
) -> None:
    """Change a subscriber's status (suppression records why)."""
    values: dict[str, object] = {"status": status, "suppressed_reason": reason}
    if status == "active":
        values["confirmed_at"] = now
    if status in {"unsubscribed", "bounced", "complained"}:
        values["unsubscribed_at"] = now
    session.execute(update(Subscriber).where(col(Subscriber.id) == subscriber_id).values(**values))


def set_token_nonce(session: Session, subscriber_id: int, nonce: str) -> bool:
    """Replace a subscriber's token nonce, revoking every token they hold; False if none."""
    result = session.execute(
        update(Subscriber).where(col(Subscriber.id) == subscriber_id).values(token_nonce=nonce)
    )
    return bool(getattr(result, "rowcount", 0))


def add_soft_bounce(session: Session, subscriber_id: int) -> int:
    """Count a temporary failure against the address; returns the new score."""
    session.execute(
        update(Subscriber)
        .where(col(Subscriber.id) == subscriber_id)
        .values(bounce_score=Subscriber.bounce_score + 1)
    )
    score = session.exec(
        select(Subscriber.bounce_score).where(Subscriber.id == subscriber_id)
    ).first()
    return int(score or 0)


def clear_soft_bounces(session: Session, subscriber_id: int) -> None:
    """A delivery went through: the address works again."""
    session.execute(
        update(Subscriber)
        .where(col(Subscriber.id) == subscriber_id, col(Subscriber.bounce_score) > 0)
        .values(bounce_score=0)
    )


def count_subscribers(session: Session, *, status: str | None = None) -> int:
    """How many subscribers (of a status)."""
    query = select(func.count()).select_from(Subscriber)
    if status is not None:
        query = query.where(Subscriber.status == status)
    return session.exec(query).one()


def add_alert(session: Session, subscriber_id: int, query: str, *, now: datetime) -> int | None:
    """Add an alert; None when the subscriber already has this exact query."""
    existing = session.exec(
        select(Alert.id).where(Alert.subscriber_id == subscriber_id, Alert.query == query)
    ).first()
    if existing is not None:
        return None
    row = Alert(subscriber_id=subscriber_id, query=query, created_at=now)
    session.add(row)
    session.flush()
    return row.id


def remove_alert(session: Session, subscriber_id: int, query: str) -> bool:
    """Remove a subscriber's alert by its query text; False if they had none such."""
    result = session.execute(
        delete(Alert).where(col(Alert.subscriber_id) == subscriber_id, col(Alert.query) == query)
    )
    return bool(getattr(result, "rowcount", 0))


def _alerts_of(session: Session, ids: list[int]) -> dict[int, tuple[AlertInfo, ...]]:
    grouped: dict[int, list[AlertInfo]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = session.exec(
            select(Alert).where(col(Alert.subscriber_id).in_(chunk)).order_by(col(Alert.id))
        )
        for row in rows:
            assert row.id is not None
            grouped[row.subscriber_id].append(
                AlertInfo(id=row.id, query=row.query, created_at=row.created_at)
            )
    return {key: tuple(value) for key, value in grouped.items()}


def _info(row: Subscriber, alerts: tuple[AlertInfo, ...]) -> SubscriberInfo:
    assert row.id is not None
    return SubscriberInfo(
        id=row.id,
        email=row.email,
        status=row.status,
        timezone=row.timezone,
        send_hour=row.send_hour,
        frequency=row.frequency,
        max_papers=row.max_papers,
        include_trending=row.include_trending,
        created_at=row.created_at,
        confirmed_at=row.confirmed_at,
        token_nonce=row.token_nonce,
        alerts=alerts,
    )

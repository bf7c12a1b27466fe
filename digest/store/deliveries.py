"""SQL for the delivery ledger: planning rows, claiming work, recording outcomes.

Claiming uses `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL so that several workers on
several machines share the pending rows without taking the same one; on SQLite one
`UPDATE ... WHERE id IN (SELECT ...) RETURNING id` chooses and claims under the write lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from digest.store.tables import Delivery, Edition

ACTIVE_STATES = ("pending", "sending")
# A digest was delivered, so its papers are no longer owed to the subscriber.
DELIVERED = "sent"
# Rows whose papers are delivered or on their way: the next digest starts after them.
COVERING = (DELIVERED, *ACTIVE_STATES)


@dataclass(frozen=True, slots=True)
class PlannedDelivery:
    """A ledger row to create."""

    subscriber_id: int
    edition_id: int
    message_id: str
    state: str
    content: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    """A ledger row as the pipeline and the CLI see it."""

    id: int
    subscriber_id: int
    edition_id: int
    edition_day: str
    state: str
    message_id: str
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None
    content: dict[str, Any]


def insert_planned(session: Session, planned: Sequence[PlannedDelivery], *, now: datetime) -> int:
    """Insert rows, ignoring (subscriber, edition) pairs already in the ledger; returns count."""
    if not planned:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = [
        {
            "subscriber_id": item.subscriber_id,
            "edition_id": item.edition_id,
            "message_id": item.message_id,
            "state": item.state,
            "content": item.content,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for item in planned
    ]
    inserted = 0
    for start in range(0, len(rows), 1000):
        statement = (
            insert(Delivery)
            .values(rows[start : start + 1000])
            .on_conflict_do_nothing(index_elements=["subscriber_id", "edition_id"])
        )
        result = session.execute(statement)
        inserted += max(getattr(result, "rowcount", 0), 0)
    return inserted


def owed_after(session: Session, subscriber_ids: Iterable[int]) -> dict[int, int]:
    """For each subscriber with ledger rows, the edition after which papers are still owed: the
    newest one a digest was delivered for or is on its way for (a row still pending or sending
    will deliver its papers, so the next digest must not repeat them); without such a row, the
    one before their first row (a first digest that failed or was skipped is still owed)."""
    ids = list(subscriber_ids)
    covering = case((col(Delivery.state).in_(COVERING), col(Delivery.edition_id)))
    found: dict[int, int] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        query = (
            select(col(Delivery.subscriber_id), func.max(covering), func.min(Delivery.edition_id))
            .where(col(Delivery.subscriber_id).in_(chunk))
            .group_by(col(Delivery.subscriber_id))
        )
        for subscriber_id, covered, first in session.exec(query):
            found[subscriber_id] = covered if covered is not None else first - 1
    return found


def last_sent_times(session: Session, subscriber_ids: Iterable[int]) -> dict[int, datetime]:
    """For each subscriber, when their latest digest was sent."""
    ids = list(subscriber_ids)
    found: dict[int, datetime] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        query = (
            select(Delivery.subscriber_id, func.max(Delivery.sent_at))
            .where(col(Delivery.subscriber_id).in_(chunk), Delivery.state == DELIVERED)
            .group_by(col(Delivery.subscriber_id))
        )
        for subscriber_id, sent_at in session.exec(query):
            if sent_at is not None:
                found[subscriber_id] = _aware(sent_at)
    return found


def planned_for(session: Session, edition_id: int) -> set[int]:
    """Subscribers who already have a ledger row for this edition."""
    return set(
        session.exec(select(Delivery.subscriber_id).where(Delivery.edition_id == edition_id))
    )


def claim(session: Session, *, now: datetime, lease_before: datetime, limit: int) -> list[int]:
    """Take up to `limit` due rows: pending ones whose time has come, and `sending` ones whose
    claim is older than the lease (a worker died mid-send). Marks them sending; returns ids."""
    due = or_(
        and_(col(Delivery.state) == "pending", col(Delivery.next_attempt_at) <= now),
        and_(col(Delivery.state) == "sending", col(Delivery.claimed_at) < lease_before),
    )
    query = select(Delivery.id).where(due).order_by(col(Delivery.id)).limit(limit)
    claimed = update(Delivery).values(
        state="sending", claimed_at=now, attempts=Delivery.attempts + 1, updated_at=now
    )
    if session.get_bind().dialect.name == "postgresql":
        ids = [ident for ident in session.exec(query.with_for_update(skip_locked=True)) if ident]
        if ids:
            session.execute(claimed.where(col(Delivery.id).in_(ids)))
        return ids
    # SQLite: pysqlite runs a SELECT outside the write transaction, so a separate SELECT lets
    # two senders pick the same rows. One UPDATE chooses and claims under the write lock.
    result = session.execute(
        claimed.where(col(Delivery.id).in_(query.scalar_subquery())).returning(col(Delivery.id))
    )
    return sorted(ident for ident in result.scalars() if ident is not None)


def get_rows(session: Session, ids: Sequence[int]) -> list[DeliveryRow]:
    """Ledger rows by id, in id order."""
    query = (
        select(Delivery, col(Edition.day))
        .join(Edition, col(Edition.id) == col(Delivery.edition_id))
        .where(col(Delivery.id).in_(list(ids)))
        .order_by(col(Delivery.id))
    )
    return [_row(delivery, day) for delivery, day in session.exec(query)]


def list_rows(session: Session, *, state: str | None = None, limit: int = 100) -> list[DeliveryRow]:
    """The newest ledger rows (of a state)."""
    query = select(Delivery, col(Edition.day)).join(
        Edition, col(Edition.id) == col(Delivery.edition_id)
    )
    if state is not None:
        query = query.where(Delivery.state == state)
    query = query.order_by(col(Delivery.id).desc()).limit(limit)
    return [_row(delivery, day) for delivery, day in session.exec(query)]


def mark(
    session: Session,
    delivery_id: int,
    *,
    state: str,
    now: datetime,
    error: str | None = None,
    next_attempt_at: datetime | None = None,
) -> None:
    """Record an outcome: sent, pending again (with its next attempt), failed, bounced..."""
    values: dict[str, Any] = {"state": state, "updated_at": now, "last_error": error}
    if state == DELIVERED:
        values["sent_at"] = now
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    if state != "sending":
        values["claimed_at"] = None
    session.execute(update(Delivery).where(col(Delivery.id) == delivery_id).values(**values))


def release(session: Session, ids: Sequence[int], *, now: datetime) -> None:
    """Give claimed rows back untried (a circuit breaker stopped the run): pending again."""
    if ids:
        session.execute(
            update(Delivery)
            .where(col(Delivery.id).in_(list(ids)), col(Delivery.state) == "sending")
            .values(
                state="pending", claimed_at=None, attempts=Delivery.attempts - 1, updated_at=now
            )
        )


def count_by_state(session: Session) -> dict[str, int]:
    """How many ledger rows are in each state."""
    query = select(Delivery.state, func.count()).group_by(col(Delivery.state))
    return {str(state): int(count) for state, count in session.exec(query)}


def _row(delivery: Delivery, day: Any) -> DeliveryRow:
    assert delivery.id is not None
    return DeliveryRow(
        id=delivery.id,
        subscriber_id=delivery.subscriber_id,
        edition_id=delivery.edition_id,
        edition_day=str(day),
        state=delivery.state,
        message_id=delivery.message_id,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        sent_at=delivery.sent_at,
        last_error=delivery.last_error,
        content=dict(delivery.content),
    )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)

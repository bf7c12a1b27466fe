"""SQL for editions (the day's batch of new papers)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from digest.store.tables import Edition


def get_or_create(session: Session, *, day: date, now: datetime) -> int:
    """The id of the edition for `day`, created if this is the day's first new paper."""
    existing = session.exec(select(Edition.id).where(Edition.day == day)).first()
    if existing is not None:
        return existing
    row = Edition(day=day, created_at=now)
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def count_editions(session: Session) -> int:
    """How many editions exist."""
    return session.exec(select(func.count()).select_from(Edition)).one()


def latest(session: Session) -> tuple[int, date] | None:
    """The newest edition's id and day."""
    row = session.exec(
        select(col(Edition.id), col(Edition.day)).order_by(col(Edition.id).desc())
    ).first()
    return None if row is None or row[0] is None else (row[0], row[1])


def for_day(session: Session, day: date) -> tuple[int, date] | None:
    """The edition of a day, if there is one."""
    row = session.exec(select(col(Edition.id), col(Edition.day)).where(Edition.day == day)).first()
    return None if row is None or row[0] is None else (row[0], row[1])


def window(session: Session, *, after_id: int, upto_id: int, limit: int) -> list[tuple[int, date]]:
    """Editions newer than `after_id` up to `upto_id`, oldest first, at most the newest `limit`."""
    rows = session.exec(
        select(col(Edition.id), col(Edition.day))
        .where(col(Edition.id) > after_id, col(Edition.id) <= upto_id)
        .order_by(col(Edition.id).desc())
        .limit(limit)
    ).all()
    return [(ident, day) for ident, day in reversed(rows) if ident is not None]


def list_editions(session: Session, *, limit: int = 50) -> list[tuple[int, date]]:
    """The newest editions first."""
    rows = session.exec(
        select(col(Edition.id), col(Edition.day)).order_by(col(Edition.id).desc()).limit(limit)
    ).all()
    return [(ident, day) for ident, day in rows if ident is not None]

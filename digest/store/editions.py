"""SQL for editions (the day's batch of new papers)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, select

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

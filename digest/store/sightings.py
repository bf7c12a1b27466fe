"""SQL for sightings (a paper's appearance in a listing)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, insert
from sqlmodel import Session, select

from digest.store.tables import Sighting


def add_sightings(
    session: Session,
    appearances: Iterable[tuple[int, int, int | None]],
    *,
    listing_id: int,
    now: datetime,
) -> int:
    """Record (paper id, position, upvotes) appearances in a listing; returns the count."""
    rows = [
        {
            "paper_id": paper_id,
            "listing_id": listing_id,
            "position": position,
            "upvotes": upvotes,
            "seen_at": now,
        }
        for paper_id, position, upvotes in appearances
    ]
    # One executemany instead of an ORM INSERT per row (the ingest benchmark's hot spot).
    if rows:
        session.execute(insert(Sighting), rows)
    return len(rows)


def count_sightings(session: Session) -> int:
    """How many sightings are stored."""
    return session.exec(select(func.count()).select_from(Sighting)).one()

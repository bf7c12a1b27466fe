"""SQL for listings (one row per ingested source)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from digest.store.tables import Listing


def find_by_hash(session: Session, content_hash: str) -> Listing | None:
    """The listing already ingested with this content, if any."""
    return session.exec(select(Listing).where(Listing.content_hash == content_hash)).first()


def add_listing(
    session: Session,
    *,
    content_hash: str,
    source: str,
    fmt: str,
    listing_day: date | None,
    warnings: list[str],
    now: datetime,
) -> Listing:
    """Record a source being ingested; counts are filled in by `set_counts`."""
    row = Listing(
        content_hash=content_hash,
        source=source[:1024],
        format=fmt,
        listing_day=listing_day,
        warnings=warnings,
        status="ingested",
        ingested_at=now,
    )
    session.add(row)
    session.flush()
    return row


def set_counts(
    session: Session,
    listing: Listing,
    *,
    entries: int,
    new: int,
    known: int,
    edition_id: int | None,
) -> None:
    """Store what ingesting the listing found."""
    listing.entries = entries
    listing.new_count = new
    listing.known_count = known
    listing.edition_id = edition_id
    session.add(listing)
    session.flush()


def count_listings(session: Session) -> int:
    """How many sources have been ingested."""
    return session.exec(select(func.count()).select_from(Listing)).one()


def list_listings(session: Session, *, limit: int = 50) -> list[Listing]:
    """The most recently ingested listings first."""
    return list(session.exec(select(Listing).order_by(col(Listing.id).desc()).limit(limit)))


def known_in_editions(session: Session, edition_ids: list[int]) -> int:
    """Known papers seen again in the listings that made these editions."""
    if not edition_ids:
        return 0
    total = session.exec(
        select(func.sum(Listing.known_count)).where(col(Listing.edition_id).in_(edition_ids))
    ).one()
    return int(total or 0)

"""Looking at what is stored: counts, papers, and searching the archive."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from digest.models import StoredPaper
from digest.store import editions, listings, papers, sightings
from digest.store.db import reading


@dataclass(frozen=True, slots=True)
class StoreStats:
    """Counts of what is stored."""

    papers: int
    listings: int
    editions: int
    sightings: int


def gather_stats(engine: Engine) -> StoreStats:
    """Count the stored papers, listings, editions and sightings."""
    with reading(engine) as session:
        return StoreStats(
            papers=papers.count_papers(session),
            listings=listings.count_listings(session),
            editions=editions.count_editions(session),
            sightings=sightings.count_sightings(session),
        )


def recent_papers(engine: Engine, *, limit: int = 20) -> list[StoredPaper]:
    """The newest stored papers."""
    with reading(engine) as session:
        return papers.list_papers(session, limit=limit)


def find_paper(engine: Engine, ident: str) -> StoredPaper | None:
    """One paper by row id, identity key or arXiv id."""
    with reading(engine) as session:
        return papers.get_paper(session, ident)

"""SQL for papers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from sqlalchemy import func, insert, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from digest.models import KnownPaper, NewPaper, SeenPaper, StoredPaper
from digest.store.tables import Paper, Sighting

# Bound parameters per IN list; well under SQLite's and PostgreSQL's limits.
_CHUNK = 500


def find_candidates(
    session: Session,
    *,
    arxiv_ids: Iterable[str],
    title_keys: Iterable[str],
    abstract_hashes: Iterable[str],
) -> list[KnownPaper]:
    """Stored papers sharing an arXiv id, title key or abstract fingerprint (index lookups)."""
    # Only the columns reconciling reads: building full ORM rows cost more than the lookups.
    columns = (
        col(Paper.id),
        col(Paper.key),
        col(Paper.arxiv_id),
        col(Paper.title),
        col(Paper.title_key),
        col(Paper.abstract),
        col(Paper.abstract_hash),
        col(Paper.author_count),
        col(Paper.upvotes),
    )
    found: dict[int, KnownPaper] = {}
    for column, values in (
        (Paper.arxiv_id, sorted(arxiv_ids)),
        (Paper.title_key, sorted(title_keys)),
        (Paper.abstract_hash, sorted(abstract_hashes)),
    ):
        for start in range(0, len(values), _CHUNK):
            chunk = values[start : start + _CHUNK]
            for row in session.execute(sa_select(*columns).where(col(column).in_(chunk))):
                found[row.id] = KnownPaper(**row._mapping)
    return list(found.values())


def add_papers(
    session: Session,
    papers: Sequence[NewPaper],
    *,
    listing_id: int,
    edition_id: int,
    now: datetime,
) -> list[int]:
    """Insert new papers; returns their ids in the same order."""
    # Multi-row INSERTs, then the ids by key: ORM objects (and INSERT ... RETURNING in
    # parameter order, on SQLite) cost one INSERT per paper, which dominated ingest time.
    bulk_insert(session, papers, listing_id=listing_id, edition_id=edition_id, now=now)
    ids: dict[str, int] = {}
    keys = [paper.key for paper in papers]
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        for key, paper_id in session.exec(
            select(Paper.key, Paper.id).where(col(Paper.key).in_(chunk))
        ):
            assert paper_id is not None
            ids[key] = paper_id
    return [ids[paper.key] for paper in papers]


def bulk_insert(
    session: Session,
    papers: Iterable[NewPaper],
    *,
    listing_id: int,
    edition_id: int,
    now: datetime,
    batch: int = 5_000,
) -> int:
    """Insert new papers in batches of multi-row INSERTs, without ids; returns the count."""
    count = 0
    rows: list[dict[str, object]] = []
    for paper in papers:
        rows.append(_values(paper, listing_id=listing_id, edition_id=edition_id, now=now))
        if len(rows) >= batch:
            session.execute(insert(Paper), rows)
            count += len(rows)
            rows = []
    if rows:
        session.execute(insert(Paper), rows)
        count += len(rows)
    return count


def _values(
    paper: NewPaper, *, listing_id: int, edition_id: int, now: datetime
) -> dict[str, object]:
    return {
        "key": paper.key,
        "arxiv_id": paper.parsed.arxiv_id,
        "title": paper.parsed.title,
        "title_key": paper.title_key,
        "abstract": paper.parsed.abstract,
        "abstract_hash": paper.abstract_hash,
        "authors": list(paper.parsed.authors),
        "author_count": paper.parsed.author_count,
        "organization": paper.parsed.organization,
        "published": paper.parsed.published,
        "upvotes": paper.parsed.upvotes,
        "first_seen_at": now,
        "listing_id": listing_id,
        "edition_id": edition_id,
    }


def apply_updates(session: Session, seen: Iterable[SeenPaper]) -> int:
    """Write what sightings taught about known papers; returns how many rows changed."""
    rows = [{"id": sighting.paper_id, **sighting.updates} for sighting in seen if sighting.updates]
    if rows:
        # An ORM bulk UPDATE by primary key runs one executemany per run of rows changing the
        # same columns (sorted together here), instead of one UPDATE statement per paper.
        rows.sort(key=sorted)
        session.execute(update(Paper), rows)
    return len(rows)


def count_papers(session: Session) -> int:
    """How many papers are stored."""
    return session.exec(select(func.count()).select_from(Paper)).one()


def get_paper(session: Session, ident: str) -> StoredPaper | None:
    """A paper by row id, identity key or arXiv id, with its sighting count."""
    if ident.isdigit():
        row = session.get(Paper, int(ident))
    else:
        row = session.exec(
            select(Paper).where(or_(col(Paper.key) == ident, col(Paper.arxiv_id) == ident))
        ).first()
    if row is None:
        return None
    count = session.exec(
        select(func.count()).select_from(Sighting).where(Sighting.paper_id == row.id)
    ).one()
    return to_stored(row, sightings=count)


def list_papers(session: Session, *, limit: int = 50, offset: int = 0) -> list[StoredPaper]:
    """The newest papers first."""
    rows = session.exec(select(Paper).order_by(col(Paper.id).desc()).offset(offset).limit(limit))
    return [to_stored(row) for row in rows]


def iter_texts(session: Session, *, batch: int = 5_000) -> Iterator[list[tuple[str, str]]]:
    """Every paper's (title, abstract), in batches by id (for recomputing term statistics)."""
    last = 0
    while True:
        rows = session.execute(
            sa_select(col(Paper.id), col(Paper.title), col(Paper.abstract))
            .where(col(Paper.id) > last)
            .order_by(col(Paper.id))
            .limit(batch)
        ).all()
        if not rows:
            return
        last = rows[-1][0]
        yield [(title, abstract) for _, title, abstract in rows]


def papers_since(
    session: Session, *, since: datetime | None = None, edition_ids: Iterable[int] | None = None
) -> list[StoredPaper]:
    """Papers first seen at or after `since` (or in the given editions), oldest first."""
    query = select(Paper).order_by(col(Paper.edition_id), col(Paper.id))
    if since is not None:
        query = query.where(col(Paper.first_seen_at) >= since)
    if edition_ids is not None:
        query = query.where(col(Paper.edition_id).in_(list(edition_ids)))
    return [to_stored(row) for row in session.exec(query)]


def get_many(session: Session, ids: Iterable[int]) -> dict[int, StoredPaper]:
    """Papers by id (missing ids are left out)."""
    wanted = sorted(set(ids))
    found: dict[int, StoredPaper] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        for row in session.exec(select(Paper).where(col(Paper.id).in_(chunk))):
            stored = to_stored(row)
            found[stored.id] = stored
    return found


def to_stored(row: Paper, *, sightings: int = 0) -> StoredPaper:
    """Convert a row to the public type at the store's edge."""
    assert row.id is not None
    return StoredPaper(
        id=row.id,
        key=row.key,
        arxiv_id=row.arxiv_id,
        title=row.title,
        abstract=row.abstract,
        authors=tuple(row.authors),
        author_count=row.author_count,
        organization=row.organization,
        published=row.published,
        upvotes=row.upvotes,
        first_seen_at=row.first_seen_at,
        edition_id=row.edition_id,
        sightings=sightings,
    )

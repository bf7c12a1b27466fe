"""SQL for archive-wide term statistics (BM25 document frequencies and lengths)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from digest.store.tables import CorpusStat, TermStat

_CHUNK = 500


def add_counts(
    session: Session,
    df: Mapping[str, int],
    *,
    documents: int,
    title_terms: int,
    abstract_terms: int,
    analyzer: str,
) -> None:
    """Add new papers' document frequencies and lengths to the archive's (an upsert)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # Terms are cut to the column's width; two long terms sharing their first 120 characters
    # become one key, and one upsert must not touch a row twice (PostgreSQL refuses).
    merged: dict[str, int] = {}
    for term, count in df.items():
        merged[term[:120]] = merged.get(term[:120], 0) + count
    rows = [{"term": term, "df": count} for term, count in merged.items() if count]
    for start in range(0, len(rows), _CHUNK):
        statement = insert(TermStat).values(rows[start : start + _CHUNK])
        statement = statement.on_conflict_do_update(
            index_elements=["term"], set_={"df": TermStat.df + statement.excluded.df}
        )
        session.execute(statement)
    stat = session.get(CorpusStat, 1) or CorpusStat(id=1)
    stat.documents += documents
    stat.title_terms += title_terms
    stat.abstract_terms += abstract_terms
    stat.analyzer = analyzer
    session.add(stat)
    session.flush()


def reset(session: Session) -> None:
    """Forget all statistics (before recomputing them from every paper)."""
    session.execute(delete(TermStat))
    session.execute(delete(CorpusStat))


def corpus(session: Session) -> CorpusStat | None:
    """The archive's counts, if any were recorded."""
    return session.get(CorpusStat, 1)


def document_frequencies(session: Session, terms: Iterable[str]) -> dict[str, int]:
    """Archive document frequency of each given term that is known."""
    wanted = sorted({term[:120] for term in terms})
    found: dict[str, int] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        for term, count in session.exec(
            select(TermStat.term, TermStat.df).where(col(TermStat.term).in_(chunk))
        ):
            found[term] = count
    return found

"""The database tables (SQLModel). Rows never leave the store: modules convert them to models."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from digest.store.types import UTCDateTime

# Naming constraints keeps Alembic migrations identical on SQLite and PostgreSQL.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Edition(SQLModel, table=True):
    """The batch of papers that became new on one day."""

    __tablename__ = "editions"

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(unique=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class Listing(SQLModel, table=True):
    """One ingested source (a dump file, an API response, a feed)."""

    __tablename__ = "listings"

    id: int | None = Field(default=None, primary_key=True)
    content_hash: str = Field(max_length=64, unique=True)
    source: str = Field(max_length=1024)
    format: str = Field(max_length=16)
    listing_day: date | None = None
    entries: int = 0
    new_count: int = 0
    known_count: int = 0
    warnings: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="ingested", max_length=16)
    error: str | None = Field(default=None, sa_column=Column(Text))
    edition_id: int | None = Field(default=None, foreign_key="editions.id")
    ingested_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class Paper(SQLModel, table=True):
    """Every paper digest has ever seen, once."""

    __tablename__ = "papers"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=520, unique=True)
    arxiv_id: str | None = Field(default=None, max_length=32, unique=True)
    title: str = Field(sa_column=Column(Text, nullable=False))
    title_key: str = Field(max_length=520, index=True)
    abstract: str = Field(sa_column=Column(Text, nullable=False))
    abstract_hash: str | None = Field(default=None, max_length=32, index=True)
    authors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    author_count: int | None = None
    organization: str | None = Field(default=None, max_length=300)
    published: date | None = None
    upvotes: int | None = None
    first_seen_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    listing_id: int = Field(foreign_key="listings.id", index=True)
    edition_id: int = Field(foreign_key="editions.id", index=True)


class Sighting(SQLModel, table=True):
    """A paper's appearance in a listing: its place and upvotes that day (feeds trending)."""

    __tablename__ = "sightings"
    __table_args__ = (
        UniqueConstraint("paper_id", "listing_id"),
        Index("ix_sightings_listing_id_position", "listing_id", "position"),
    )

    id: int | None = Field(default=None, primary_key=True)
    paper_id: int = Field(foreign_key="papers.id", index=True)
    listing_id: int = Field(foreign_key="listings.id")
    position: int
    upvotes: int | None = None
    seen_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class Subscriber(SQLModel, table=True):
    """A person who gets digests; pending until they confirm (double opt-in)."""

    __tablename__ = "subscribers"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    status: str = Field(default="pending", max_length=16, index=True)
    timezone: str = Field(default="UTC", max_length=64)
    send_hour: int = 7
    frequency: str = Field(default="daily", max_length=8)
    max_papers: int = 20
    include_trending: bool = True
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    confirmed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    unsubscribed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # Part of every manage/unsubscribe/feed token: a new nonce revokes all of them.
    token_nonce: str = Field(default="", max_length=32)
    bounce_score: int = 0  # soft bounces since the last successful delivery
    suppressed_reason: str | None = Field(default=None, max_length=200)


class Alert(SQLModel, table=True):
    """A subscriber's keyword alert: a query in the alert language."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("subscriber_id", "query"),)

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(foreign_key="subscribers.id", index=True, ondelete="CASCADE")
    query: str = Field(max_length=300)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class TermStat(SQLModel, table=True):
    """Archive-wide document frequency of an analyzed term (for BM25 idf)."""

    __tablename__ = "term_stats"

    term: str = Field(max_length=120, primary_key=True)
    df: int = 0


class CorpusStat(SQLModel, table=True):
    """Archive-wide counts for BM25 length normalisation; a single row."""

    __tablename__ = "corpus_stats"

    id: int = Field(default=1, primary_key=True)
    documents: int = 0
    title_terms: int = 0
    abstract_terms: int = 0
    analyzer: str = Field(default="", max_length=32)


class Delivery(SQLModel, table=True):
    """The ledger: one row per (subscriber, edition), written before anything is sent."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "edition_id"),
        Index("ix_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(foreign_key="subscribers.id", index=True, ondelete="CASCADE")
    edition_id: int = Field(foreign_key="editions.id", index=True)
    # pending -> sending -> sent | failed | bounced; skipped (nothing to send), suppressed
    state: str = Field(default="pending", max_length=16)
    message_id: str = Field(max_length=200)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    claimed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    # The digest's content, frozen when planned so that a retry sends the same mail:
    # {"editions": [ids], "papers": [{"id", "score", "alerts": [ids], "trending"}], ...}
    content: dict[str, object] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))

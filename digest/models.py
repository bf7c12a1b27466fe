"""Plain types that cross stage boundaries. No I/O, no ORM: the store converts at its edge."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime


class SourceFormat(enum.StrEnum):
    """The kinds of listing a source can hold."""

    TEXT = "text"  # the text of a daily papers page, copied out of a browser
    JSON = "json"  # the daily papers JSON API (/api/daily_papers)
    FEED = "feed"  # an arXiv RSS 2.0 or Atom listing


@dataclass(frozen=True, slots=True)
class ParsedPaper:
    """One entry of a listing, as the parser read it."""

    title: str
    abstract: str
    position: int  # 1-based place in the listing
    arxiv_id: str | None = None
    authors: tuple[str, ...] = ()
    author_count: int | None = None
    organization: str | None = None  # the submitting organisation, when shown instead of authors
    published: date | None = None
    upvotes: int | None = None


@dataclass(frozen=True, slots=True)
class ParsedListing:
    """A whole source after parsing: its entries and what the parser had to say about it."""

    format: SourceFormat
    papers: tuple[ParsedPaper, ...]
    listing_day: date | None = None
    warnings: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What ingesting one source did; the CLI's summary row and `--json` object."""

    file: str
    status: str  # "ingested" | "skipped" | "rejected"
    entries: int = 0
    new: int = 0
    known: int = 0
    warnings: tuple[str, ...] = ()
    error: str | None = None
    listing_id: int | None = None


@dataclass(frozen=True, slots=True)
class KnownPaper:
    """What reconciling needs to know of a stored paper."""

    id: int
    key: str
    arxiv_id: str | None
    title: str
    title_key: str
    abstract: str
    abstract_hash: str | None
    author_count: int | None
    upvotes: int | None


@dataclass(frozen=True, slots=True)
class NewPaper:
    """A parsed paper the store has never seen, with its identity computed."""

    parsed: ParsedPaper
    key: str
    title_key: str
    abstract_hash: str | None


@dataclass(frozen=True, slots=True)
class SeenPaper:
    """A parsed paper the store knows, and what this sighting adds to the stored row."""

    paper_id: int
    parsed: ParsedPaper
    updates: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The decision for one listing: which entries are new and which are sightings."""

    new: tuple[NewPaper, ...]
    seen: tuple[SeenPaper, ...]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StoredPaper:
    """A stored paper as every surface (CLI, web, feeds, email) sees it."""

    id: int
    key: str
    arxiv_id: str | None
    title: str
    abstract: str
    authors: tuple[str, ...]
    author_count: int | None
    organization: str | None
    published: date | None
    upvotes: int | None
    first_seen_at: datetime
    edition_id: int
    sightings: int = 0


@dataclass(frozen=True, slots=True)
class AlertInfo:
    """A stored alert."""

    id: int
    query: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SubscriberInfo:
    """A stored subscriber with their alerts, as every surface sees them."""

    id: int
    email: str
    status: str  # pending | active | unsubscribed | bounced | complained
    timezone: str
    send_hour: int
    frequency: str  # daily | weekly
    max_papers: int
    include_trending: bool
    created_at: datetime
    confirmed_at: datetime | None
    token_nonce: str = ""
    alerts: tuple[AlertInfo, ...] = ()

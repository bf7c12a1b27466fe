"""Feeds from the store: the new papers, any alert query, a subscriber's private feed, OPML.

Each feed covers the papers of the last FEED_WINDOW_EDITIONS editions, newest edition first;
search and private feeds keep the papers their query or alerts match, ranked with the code the
digests use (best first within an edition) and explained over the whole abstract. Every date
in a feed is a stored one, so the same data gives the same bytes. `write_static_feeds` writes
the public feeds to files for a plain web server (and for the daily job); `archive_version`
tells a cache of built feeds when the stored data may have changed.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy.engine import Engine
from sqlmodel import Session

from digest.config import Settings
from digest.feeds import (
    FeedFormat,
    FeedItem,
    FeedView,
    Outline,
    RenderedFeed,
    build_feed,
    build_opml,
    feed_id,
    feed_item,
)
from digest.models import StoredPaper, SubscriberInfo
from digest.pipeline.access import subscriber_for_token
from digest.pipeline.links import Links
from digest.pipeline.ranking import build_index, ensure_term_stats, parsed_query, subscriber_spec
from digest.pipeline.subscribers import find_subscriber
from digest.rank.explain import explain
from digest.rank.query import Query, parse_query
from digest.rank.score import AlertSpec, Match, SubscriberSpec, rank_subscribers
from digest.store import editions, listings, papers
from digest.store.db import reading
from digest.tokens import Purpose

log = logging.getLogger(__name__)

FEED_WINDOW_EDITIONS = 14  # two weeks of daily editions, as a digest after a pause covers
NO_DATA = datetime(1970, 1, 1, tzinfo=UTC)  # `updated` of a feed over an empty archive
STATIC_NAME = "new"  # the public feed's file name: new.atom and new.rss
_SEARCHER = 0


def new_papers_view(engine: Engine, *, settings: Settings) -> FeedView:
    """The papers of the latest editions, newest edition first, in listing order within one."""
    with reading(engine) as session:
        stored = _window(session)
    chosen = sorted(stored, key=lambda paper: (-paper.edition_id, paper.id))
    items = [
        _item(paper, alerts=(), settings=settings) for paper in chosen[: settings.feed_max_entries]
    ]
    base = settings.base_url
    return FeedView(
        id=feed_id("new"),
        title=f"{settings.service_name}: new papers",
        description=f"Papers new in the latest editions of {settings.service_name}.",
        home_url=f"{base}/",
        atom_url=f"{base}/feeds/{STATIC_NAME}.atom",
        rss_url=f"{base}/feeds/{STATIC_NAME}.rss",
        author=settings.service_name,
        updated=_updated(stored),
        items=tuple(items),
        generator=settings.service_name,
    )


def search_view(engine: Engine, query_text: str, *, settings: Settings) -> FeedView:
    """The recent papers an alert query matches; raises QueryError for a malformed query."""
    query = parse_query(query_text)
    text = normalize_query(query_text)
    spec = SubscriberSpec(id=_SEARCHER, alerts=(AlertSpec(id=0, query=query),))
    stored, matches = _rank(engine, spec, settings=settings)
    items = _matched_items(matches, stored, {0: query}, settings=settings)
    base = settings.base_url
    return FeedView(
        id=feed_id("search", text),
        title=f"{settings.service_name}: {text}",
        description=f"Recent papers matching {text}, newest first.",
        home_url=f"{base}/",
        atom_url=search_url(base, text, fmt=FeedFormat.ATOM),
        rss_url=search_url(base, text, fmt=FeedFormat.RSS),
        author=settings.service_name,
        updated=_updated(stored),
        items=tuple(items),
        generator=settings.service_name,
    )


def private_view(engine: Engine, token: str, *, settings: Settings, secret: str) -> FeedView:
    """A subscriber's matches across all their alerts; raises TokenError for a bad token."""
    subscriber = feed_subscriber(engine, token, secret=secret)
    return subscriber_view(engine, subscriber, token=token, settings=settings)


def feed_subscriber(engine: Engine, token: str, *, secret: str) -> SubscriberInfo:
    """The subscriber a feed token speaks for, read now; raises TokenError (revoked too)."""
    return subscriber_for_token(engine, token, purpose=Purpose.FEED, secret=secret)


def subscriber_view(
    engine: Engine, subscriber: SubscriberInfo, *, token: str, settings: Settings
) -> FeedView:
    """The private feed of a subscriber whose token was checked; `token` is in its URLs."""
    spec = subscriber_spec(subscriber)
    stored, matches = _rank(engine, spec, settings=settings)
    queries = {alert.id: alert.query for alert in spec.alerts}
    items = _matched_items(matches, stored, queries, settings=settings)
    alerts = "; ".join(query.text for query in queries.values()) or "none yet"
    base = settings.base_url
    return FeedView(
        # The address, not the row id: the feed keeps its id if the database is rebuilt.
        id=feed_id("private", subscriber.email),
        title=f"{settings.service_name}: your alerts",
        description=f"Recent papers matching your alerts ({alerts}), newest first.",
        home_url=f"{base}/",
        atom_url=private_url(base, token, fmt=FeedFormat.ATOM),
        rss_url=private_url(base, token, fmt=FeedFormat.RSS),
        author=settings.service_name,
        updated=_updated(stored),
        items=tuple(items),
        generator=settings.service_name,
    )


def new_papers_feed(engine: Engine, *, settings: Settings, fmt: FeedFormat) -> RenderedFeed:
    """The new papers feed, built."""
    return build_feed(new_papers_view(engine, settings=settings), fmt)


def search_feed(
    engine: Engine, query_text: str, *, settings: Settings, fmt: FeedFormat
) -> RenderedFeed:
    """A query's feed, built; raises QueryError."""
    return build_feed(search_view(engine, query_text, settings=settings), fmt)


def private_feed(
    engine: Engine, token: str, *, settings: Settings, secret: str, fmt: FeedFormat
) -> RenderedFeed:
    """A subscriber's private feed, built; raises TokenError."""
    return build_feed(private_view(engine, token, settings=settings, secret=secret), fmt)


def subscriber_feed(
    engine: Engine, subscriber: SubscriberInfo, *, token: str, settings: Settings, fmt: FeedFormat
) -> RenderedFeed:
    """The private feed of a subscriber whose token was checked, built."""
    return build_feed(subscriber_view(engine, subscriber, token=token, settings=settings), fmt)


def archive_version(engine: Engine) -> tuple[int, int, int]:
    """What every feed's stored inputs are at: it moves with each ingest that stores anything,
    since new papers, editions, changed papers and term counts come with a new listing row
    in the same transaction. (listings, newest listing id, newest edition id): three lookups."""
    with reading(engine) as session:
        count = listings.count_listings(session)
        newest = [row.id or 0 for row in listings.list_listings(session, limit=1)]
        edition = editions.latest(session)
    return count, max(newest, default=0), edition[0] if edition else 0


def private_opml(engine: Engine, token: str, *, settings: Settings, secret: str) -> bytes:
    """The OPML of the subscriber a feed token names; raises TokenError."""
    subscriber = feed_subscriber(engine, token, secret=secret)
    private = private_url(settings.base_url, token, fmt=FeedFormat.ATOM)
    return build_opml(_opml_title(settings), _outlines(subscriber, private, settings=settings))


def subscriber_opml(engine: Engine, email: str, *, settings: Settings, links: Links) -> bytes:
    """The OPML of a subscriber by address (a fresh feed token); raises NotFoundError."""
    subscriber = find_subscriber(engine, email)
    private = links.feed_url(subscriber, kind=FeedFormat.ATOM.value)
    return build_opml(_opml_title(settings), _outlines(subscriber, private, settings=settings))


def write_static_feeds(
    engine: Engine, *, settings: Settings, out: Path | None = None
) -> list[Path]:
    """Write the public feeds (new.atom, new.rss) to `out` or settings.feeds_dir, atomically;
    a file whose bytes would not change is left alone, so its mtime stays a validator."""
    folder = Path(out if out is not None else settings.feeds_dir)
    folder.mkdir(parents=True, exist_ok=True)
    view = new_papers_view(engine, settings=settings)
    paths, changed = [], 0
    for fmt in (FeedFormat.ATOM, FeedFormat.RSS):
        path = folder / f"{STATIC_NAME}.{fmt.value}"
        changed += _write_atomically(path, build_feed(view, fmt).body)
        paths.append(path)
    log.info("feeds: entries=%d files=%d changed=%d", len(view.items), len(paths), changed)
    return paths


def normalize_query(text: str) -> str:
    """A query as its feed is named and identified: runs of spaces mean nothing."""
    return " ".join(text.split())


def search_url(base_url: str, query_text: str, *, fmt: FeedFormat) -> str:
    """The URL of a query's feed."""
    return f"{base_url}/feeds/search.{fmt.value}?{urlencode({'q': normalize_query(query_text)})}"


def private_url(base_url: str, token: str, *, fmt: FeedFormat) -> str:
    """The URL of a private feed for a token."""
    return f"{base_url}/feeds/private/{token}.{fmt.value}"


def _window(session: Session) -> list[StoredPaper]:
    recent = editions.list_editions(session, limit=FEED_WINDOW_EDITIONS)
    if not recent:
        return []
    return papers.papers_since(session, edition_ids=[ident for ident, _ in recent])


def _rank(
    engine: Engine, spec: SubscriberSpec, *, settings: Settings
) -> tuple[list[StoredPaper], list[Match]]:
    """The window's papers and every one of them the spec's alerts match."""
    ensure_term_stats(engine)
    with reading(engine) as session:
        stored = _window(session)
        if not stored or not spec.alerts:
            return stored, []
        index = build_index(session, stored, settings=settings)
    everything = dataclasses.replace(spec, max_papers=len(stored), first_paper=0)
    return stored, rank_subscribers([everything], index).for_subscriber(spec.id)


def _matched_items(
    matches: Sequence[Match],
    stored: Sequence[StoredPaper],
    queries: dict[int, Query],
    *,
    settings: Settings,
) -> list[FeedItem]:
    """Newest edition first, best first within an edition, capped; each explained."""
    by_id = {paper.id: paper for paper in stored}
    ordered = sorted(
        matches,
        key=lambda match: (-by_id[match.paper.id].edition_id, -match.score, match.paper.id),
    )
    return [
        _item(
            by_id[match.paper.id],
            alerts=[(alert_id, queries[alert_id]) for alert_id in match.alert_ids],
            settings=settings,
        )
        for match in ordered[: settings.feed_max_entries]
    ]


def _item(
    paper: StoredPaper, *, alerts: Sequence[tuple[int, Query]], settings: Settings
) -> FeedItem:
    # A snippet as long as the abstract: the feed shows all of it, highlighted.
    explanation = explain(
        alerts, title=paper.title, abstract=paper.abstract, snippet_chars=len(paper.abstract)
    )
    return feed_item(
        paper,
        explanation=explanation,
        base_url=settings.base_url,
        categories=[query.text for _, query in alerts],
    )


def _updated(stored: Sequence[StoredPaper]) -> datetime:
    """The newest stored timestamp behind a feed: when its newest paper was first seen."""
    return max((paper.first_seen_at for paper in stored), default=NO_DATA)


def _outlines(subscriber: SubscriberInfo, private: str, *, settings: Settings) -> list[Outline]:
    home = f"{settings.base_url}/"
    outlines = [
        Outline(
            title=f"{settings.service_name}: {alert.query}",
            xml_url=search_url(settings.base_url, alert.query, fmt=FeedFormat.ATOM),
            html_url=home,
        )
        for alert in subscriber.alerts
        if parsed_query(alert.query) is not None  # a feed that would answer 400 is no use
    ]
    outlines.append(
        Outline(title=f"{settings.service_name}: your alerts", xml_url=private, html_url=home)
    )
    return outlines


def _opml_title(settings: Settings) -> str:
    return f"{settings.service_name} feeds"


def _write_atomically(path: Path, body: bytes) -> bool:
    """Write through a temporary file in the same folder, fsync, rename; False if unchanged."""
    try:
        if path.read_bytes() == body:
            return False
    except FileNotFoundError:
        pass
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115  (closed below, before the rename)
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
    )
    try:
        with handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, 0o644)  # served by a web server: readable, like any static file
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)
    return True


def _sync_folder(folder: Path) -> None:
    """Make the rename durable (POSIX); a platform without directory fsync just skips it."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)

"""Feed routes: the new papers, a query's feed, a private feed and its OPML.

Every feed answers GET and HEAD with a strong ETag, Last-Modified and a max-age that runs
until the next daily job (when the feed can change); a conditional request whose validators
still hold gets 304 and no body. Built feeds are kept in the app's FeedCache until the archive
changes, so a repeated request, 200 or 304, costs a few lookups instead of a ranking.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from digest.errors import NotFoundError
from digest.feeds import FeedFormat
from digest.feeds.freshness import seconds_until_next_run
from digest.pipeline import feeds
from digest.web.caching import http_date, not_modified
from digest.web.feedcache import CachedFeed
from digest.web.services import Services, ServicesDep

router = APIRouter()
OPML_TYPE = "text/x-opml; charset=utf-8"
PRIVATE_HEADERS = {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


@router.api_route("/feeds/new.{extension}", methods=["GET", "HEAD"])
def new_papers(extension: str, request: Request, services: ServicesDep) -> Response:
    """The papers of the latest editions."""
    fmt = _format(extension)
    engine, settings = services.engine, services.settings
    feed = services.feed_cache.get(
        feeds.archive_version(engine),
        ("new", fmt),
        lambda: feeds.new_papers_feed(engine, settings=settings, fmt=fmt),
    )
    return _respond(request, services, feed, private=False)


@router.api_route("/feeds/search.{extension}", methods=["GET", "HEAD"])
def search(extension: str, request: Request, services: ServicesDep, q: str = "") -> Response:
    """The recent papers an alert query matches (400 for a malformed query)."""
    fmt = _format(extension)
    engine, settings = services.engine, services.settings
    feed = services.feed_cache.get(
        feeds.archive_version(engine),
        ("search", fmt, q),  # the query as sent: its parse is what the feed is a function of
        lambda: feeds.search_feed(engine, q, settings=settings, fmt=fmt),
    )
    return _respond(request, services, feed, private=False)


@router.api_route("/feeds/private/{filename}", methods=["GET", "HEAD"])
def private(filename: str, request: Request, services: ServicesDep) -> Response:
    """A subscriber's feed (`TOKEN.atom`, `TOKEN.rss`) or their feeds as OPML (`TOKEN.opml`)."""
    token, _, extension = filename.rpartition(".")
    engine, settings = services.engine, services.settings
    if extension == "opml":
        body = feeds.private_opml(engine, token, settings=settings, secret=services.secret)
        return Response(
            body,
            media_type=OPML_TYPE,
            headers={
                **PRIVATE_HEADERS,
                "Cache-Control": "private, no-cache",
                "Content-Disposition": 'attachment; filename="feeds.opml"',
            },
        )
    fmt = _format(extension)
    # The token is checked on every request, before the cache: a revoked one 404s at once.
    # The subscriber as read now (alerts, address, nonce) is part of the key.
    subscriber = feeds.feed_subscriber(engine, token, secret=services.secret)
    feed = services.feed_cache.get(
        feeds.archive_version(engine),
        ("private", fmt, token, subscriber),
        lambda: feeds.subscriber_feed(engine, subscriber, token=token, settings=settings, fmt=fmt),
    )
    return _respond(request, services, feed, private=True)


def _format(extension: str) -> FeedFormat:
    try:
        return FeedFormat(extension)
    except ValueError:
        raise NotFoundError(f"no feed format {extension!r}: use .atom or .rss") from None


def _respond(request: Request, services: Services, feed: CachedFeed, *, private: bool) -> Response:
    settings = services.settings
    max_age = seconds_until_next_run(
        services.clock(), at=settings.daily_run_at, timezone=settings.timezone
    )
    etag = feed.etag
    headers = {
        "ETag": etag,
        "Last-Modified": http_date(feed.updated),
        "Cache-Control": f"{'private' if private else 'public'}, max-age={max_age}",
    }
    if private:
        headers.update(PRIVATE_HEADERS)
    if not_modified(request.headers, etag=etag, last_modified=feed.updated):
        return Response(status_code=304, headers=headers)
    return Response(feed.body, media_type=f"{feed.media_type}; charset=utf-8", headers=headers)

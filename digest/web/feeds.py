"""Feed routes: the new papers, a query's feed, a private feed and its OPML.

Every feed answers GET and HEAD with a strong ETag, Last-Modified and a max-age that runs
until the next daily job (when the feed can change); a conditional request whose validators
still hold gets 304 and no body.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from digest.errors import NotFoundError
from digest.feeds import FeedFormat, RenderedFeed
from digest.feeds.freshness import seconds_until_next_run
from digest.pipeline import feeds
from digest.web.caching import etag_of, http_date, not_modified
from digest.web.services import Services, ServicesDep

router = APIRouter()
OPML_TYPE = "text/x-opml; charset=utf-8"
PRIVATE_HEADERS = {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


@router.api_route("/feeds/new.{extension}", methods=["GET", "HEAD"])
def new_papers(extension: str, request: Request, services: ServicesDep) -> Response:
    """The papers of the latest editions."""
    fmt = _format(extension)
    feed = feeds.new_papers_feed(services.engine, settings=services.settings, fmt=fmt)
    return _respond(request, services, feed, private=False)


@router.api_route("/feeds/search.{extension}", methods=["GET", "HEAD"])
def search(extension: str, request: Request, services: ServicesDep, q: str = "") -> Response:
    """The recent papers an alert query matches (400 for a malformed query)."""
    fmt = _format(extension)
    feed = feeds.search_feed(services.engine, q, settings=services.settings, fmt=fmt)
    return _respond(request, services, feed, private=False)


@router.api_route("/feeds/private/{filename}", methods=["GET", "HEAD"])
def private(filename: str, request: Request, services: ServicesDep) -> Response:
    """A subscriber's feed (`TOKEN.atom`, `TOKEN.rss`) or their feeds as OPML (`TOKEN.opml`)."""
    token, _, extension = filename.rpartition(".")
    if extension == "opml":
        body = feeds.private_opml(
            services.engine, token, settings=services.settings, secret=services.secret
        )
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
    feed = feeds.private_feed(
        services.engine, token, settings=services.settings, secret=services.secret, fmt=fmt
    )
    return _respond(request, services, feed, private=True)


def _format(extension: str) -> FeedFormat:
    try:
        return FeedFormat(extension)
    except ValueError:
        raise NotFoundError(f"no feed format {extension!r}: use .atom or .rss") from None


def _respond(
    request: Request, services: Services, feed: RenderedFeed, *, private: bool
) -> Response:
    settings = services.settings
    max_age = seconds_until_next_run(
        services.clock(), at=settings.daily_run_at, timezone=settings.timezone
    )
    etag = etag_of(feed.body)
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

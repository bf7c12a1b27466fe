"""What the web pages show, as view models: the home page, a paper, unsubscribing.

The web app renders these with the shared Jinja environment; it decides nothing about what a
page holds. Feed links are listed here once, for the pages' discovery `<link>`s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from digest.config import Settings
from digest.errors import NotFoundError
from digest.feeds import FeedFormat
from digest.models import SubscriberInfo
from digest.pipeline.access import SUPPRESSED
from digest.pipeline.archive import find_paper
from digest.pipeline.feeds import STATIC_NAME
from digest.rank.explain import explain
from digest.render.digest import paper_view
from digest.render.view import PaperView

_FORMAT_NAMES = {FeedFormat.ATOM: "Atom", FeedFormat.RSS: "RSS"}


@dataclass(frozen=True, slots=True)
class FeedLink:
    """A feed a page points to (and announces with `<link rel="alternate">`)."""

    title: str
    url: str
    media_type: str
    format_name: str  # "Atom", "RSS"


@dataclass(frozen=True, slots=True)
class HomePage:
    """The home page: what the service is and its public feeds."""

    service_name: str
    base_url: str
    feeds: tuple[FeedLink, ...]


@dataclass(frozen=True, slots=True)
class PaperPage:
    """A paper's page: the whole abstract, its links, when the service first saw it."""

    service_name: str
    base_url: str
    paper: PaperView  # snippet_html holds the whole abstract, escaped
    seen_at: datetime
    feeds: tuple[FeedLink, ...]


@dataclass(frozen=True, slots=True)
class UnsubscribePage:
    """The unsubscribe page (a button that POSTs) and the page after it."""

    service_name: str
    base_url: str
    email: str
    unsubscribed: bool  # the address no longer gets digests


def public_feeds(settings: Settings) -> tuple[FeedLink, ...]:
    """The public feeds, Atom first."""
    return tuple(
        FeedLink(
            title=f"{settings.service_name}: new papers",
            url=f"{settings.base_url}/feeds/{STATIC_NAME}.{fmt.value}",
            media_type=fmt.media_type,
            format_name=_FORMAT_NAMES[fmt],
        )
        for fmt in (FeedFormat.ATOM, FeedFormat.RSS)
    )


def home_page(settings: Settings) -> HomePage:
    """The home page's view."""
    return HomePage(
        service_name=settings.service_name,
        base_url=settings.base_url,
        feeds=public_feeds(settings),
    )


def paper_page(engine: Engine, ref: str, *, settings: Settings) -> PaperPage:
    """A paper by row id (as mails link it), identity key or arXiv id; raises NotFoundError."""
    # A row id is ASCII digits that fit a 64-bit integer; anything else that looks numeric
    # (`²`, a 30-digit number) would make the database driver raise, not miss.
    numeric_ok = not ref.isdigit() or (ref.isascii() and len(ref) <= 18)
    paper = find_paper(engine, ref) if numeric_ok and ref else None
    if paper is None:
        raise NotFoundError(f"no paper {ref}")
    whole = explain(
        [], title=paper.title, abstract=paper.abstract, snippet_chars=len(paper.abstract)
    )
    return PaperPage(
        service_name=settings.service_name,
        base_url=settings.base_url,
        paper=paper_view(paper, explanation=whole, base_url=settings.base_url),
        seen_at=paper.first_seen_at,
        feeds=public_feeds(settings),
    )


def unsubscribe_page(subscriber: SubscriberInfo, *, settings: Settings) -> UnsubscribePage:
    """The unsubscribe page's view for a subscriber."""
    return UnsubscribePage(
        service_name=settings.service_name,
        base_url=settings.base_url,
        email=subscriber.email,
        unsubscribed=subscriber.status in SUPPRESSED,
    )

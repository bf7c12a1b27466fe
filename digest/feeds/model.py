"""What a feed is made of: the view the pipeline prepares, and the bytes that come out."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from digest.models import StoredPaper
from digest.rank.explain import Explanation
from digest.render import labels
from digest.render.digest import paper_view
from digest.render.view import PaperView


class FeedFormat(enum.StrEnum):
    """The two syndication formats every feed is offered in."""

    ATOM = "atom"
    RSS = "rss"

    @property
    def media_type(self) -> str:
        """The registered media type (without charset)."""
        return "application/atom+xml" if self is FeedFormat.ATOM else "application/rss+xml"


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry: the paper as every surface shows it, and what only feeds need."""

    paper: PaperView  # url, links, highlighted abstract, authors label, matched alerts (chips)
    seen_at: datetime  # when the service first saw the paper (stored, UTC): the entry's date
    authors: tuple[str, ...]  # the named authors, or one label ("13 authors", an organisation)


@dataclass(frozen=True, slots=True)
class FeedView:
    """A whole feed, ready to build in either format."""

    id: str  # a tag: URI (see ids.py)
    title: str
    description: str
    home_url: str  # the web page the feed belongs to
    atom_url: str
    rss_url: str
    author: str  # the feed's author: the service
    updated: datetime  # the newest stored timestamp behind the feed
    items: tuple[FeedItem, ...]
    generator: str = "digest"

    def self_url(self, fmt: FeedFormat) -> str:
        """Where the feed in `fmt` lives."""
        return self.atom_url if fmt is FeedFormat.ATOM else self.rss_url


@dataclass(frozen=True, slots=True)
class RenderedFeed:
    """A built feed: its bytes, media type, and the newest stored timestamp behind it."""

    body: bytes
    media_type: str
    updated: datetime


def feed_item(
    paper: StoredPaper,
    *,
    explanation: Explanation,
    base_url: str,
    categories: Sequence[str] = (),
) -> FeedItem:
    """A stored paper as a feed entry, highlighted by `explanation` (the whole abstract)."""
    view = paper_view(paper, explanation=explanation, base_url=base_url, chips=categories)
    names = tuple(name for name in paper.authors if name.strip())
    label = labels.authors_label(
        (), author_count=paper.author_count, organization=paper.organization
    )
    return FeedItem(
        paper=view,
        seen_at=paper.first_seen_at,
        authors=names or ((label,) if label else ()),
    )

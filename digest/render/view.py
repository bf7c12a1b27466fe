"""The view models templates get: ready to show (sorted, cut, grouped, escaped where HTML).

Templates do no scoring, sorting or cutting; everything they show is decided here or before.
Fields ending in `_html` are already-safe HTML (escaped text with `<mark>` highlights).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class PaperView:
    """One paper as an email, feed entry or web page shows it."""

    id: int
    key: str
    title: str
    title_html: str  # escaped, matched terms in <mark>
    url: str  # the paper's page on this service
    arxiv_url: str | None
    daily_url: str | None  # the daily papers page, when the arXiv id is known
    github_url: str | None  # a repository link found in the abstract
    authors: str  # "A. Author, B. Author" or "13 authors" or the organisation, or ""
    published: date | None
    upvotes: int | None
    snippet_html: str
    snippet_text: str
    chips: tuple[str, ...]  # the alerts (as typed) that matched, or ("trending",)
    trending: bool = False  # sent because nothing matched and the subscriber wants trending


@dataclass(frozen=True, slots=True)
class DigestView:
    """One subscriber's digest for one delivery."""

    email: str
    subject: str
    preheader: str
    days: tuple[date, ...]  # the listing/edition days the digest covers
    new_count: int  # papers new in those editions
    seen_count: int  # known papers seen again in those days' listings
    matched_count: int  # papers that matched this subscriber's alerts
    papers: tuple[PaperView, ...]
    more_count: int  # matched papers not shown (cut for length)
    more_url: str  # the web page with the whole list
    manage_url: str
    unsubscribe_url: str
    feed_url: str
    postal_address: str
    service_name: str
    base_url: str


@dataclass(frozen=True, slots=True)
class NoticeView:
    """A confirmation or welcome mail."""

    email: str
    subject: str
    action_url: str  # confirm link, or the manage page
    unsubscribe_url: str
    postal_address: str
    service_name: str
    base_url: str
    expires_hours: int = 0  # the confirm link's lifetime
    feed_url: str = ""  # the private feed (welcome mail)


@dataclass(frozen=True, slots=True)
class BodyParts:
    """A body cut where lines start: the mail's own start, paper blocks, the mail's own end.

    `start + "".join(blocks) + end` is the body, and every piece but `end` ends with "\n".
    The blocks are the same string objects in every mail that shows them, so MIME encodes each
    block once for all those mails (deliver/message.py): quoted-printable works line by line.
    build_message checks both promises and encodes the body whole when one does not hold.
    """

    start: str
    blocks: tuple[str, ...]
    end: str


@dataclass(frozen=True, slots=True)
class RenderedMail:
    """A mail's subject and both bodies, before MIME."""

    subject: str
    html: str
    text: str
    html_parts: BodyParts | None = None  # the same HTML in pieces, when the renderer has them
    text_parts: BodyParts | None = None

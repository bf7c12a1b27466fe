"""Builders of papers, views and a parsed HTML document for the render tests."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from typing import Any

from digest.models import StoredPaper
from digest.render.digest import paper_view
from digest.render.view import DigestView, NoticeView, PaperView

BASE_URL = "https://papers.example.org"
POSTAL = "Example Lab\n1 Research Road\n12345 Science City"


def stored(number: int = 1, **changes: Any) -> StoredPaper:
    """A stored paper with an arXiv id, two authors and a repository in its abstract."""
    paper = StoredPaper(
        id=number,
        key=f"arxiv:2411.{number:05d}",
        arxiv_id=f"2411.{number:05d}",
        title=f"Paper {number}: segmentation of chest X-rays",
        abstract=(
            f"Paper {number} segments chest X-rays with a small model. "
            "Code: https://github.com/lab/xray-seg}. " + "We also evaluate it. " * 8
        ),
        authors=("Ada Lovelace", "Alan Turing"),
        author_count=2,
        organization=None,
        published=date(2026, 11, 20),
        upvotes=7,
        first_seen_at=datetime(2026, 11, 24, 6, tzinfo=UTC),
        edition_id=1,
    )
    return dataclasses.replace(paper, **changes)


def view_of(paper: StoredPaper, *, chips: tuple[str, ...] = ("x-ray",)) -> PaperView:
    """A paper view without highlights."""
    return paper_view(paper, explanation=None, chips=chips, base_url=BASE_URL)


def digest_of(papers: tuple[PaperView, ...], **changes: Any) -> DigestView:
    """A digest for ada@example.org of these papers."""
    view = DigestView(
        email="ada@example.org",
        subject="3 papers for your alerts",
        preheader="Paper 1 and more",
        days=(date(2026, 11, 24),),
        new_count=122,
        seen_count=22,
        matched_count=len(papers),
        papers=papers,
        more_count=0,
        more_url=f"{BASE_URL}/digests/2026-11-24?t=manage",
        manage_url=f"{BASE_URL}/manage/manage-token",
        unsubscribe_url=f"{BASE_URL}/unsubscribe/unsubscribe-token",
        feed_url=f"{BASE_URL}/feeds/feed-token.atom",
        postal_address=POSTAL,
        service_name="digest",
        base_url=BASE_URL,
    )
    return dataclasses.replace(view, **changes)


def notice(**changes: Any) -> NoticeView:
    """A notice for ada@example.org."""
    view = NoticeView(
        email="ada@example.org",
        subject="Confirm your subscription",
        action_url=f"{BASE_URL}/confirm/confirm-token",
        unsubscribe_url="",
        postal_address=POSTAL,
        service_name="digest",
        base_url=BASE_URL,
        expires_hours=48,
    )
    return dataclasses.replace(view, **changes)


class Elements(HTMLParser):
    """Every start tag of an HTML document, with its attributes, and its text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.styles: list[str] = []
        self.text: list[str] = []
        self._in_style = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)
        else:
            self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str]]:
        """The attributes of every `tag` element."""
        return [attrs for name, attrs in self.tags if name == tag]

    def hrefs(self) -> list[str]:
        """Every link target."""
        return [attrs["href"] for attrs in self.all("a")]

    def visible_text(self) -> str:
        """The text, whitespace collapsed."""
        return re.sub(r"\s+", " ", "".join(self.text))

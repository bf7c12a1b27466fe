"""Building feeds from a view: required elements of RSS 2.0 and RFC 4287, feedparser reading
every format with bozo == 0, text kept as text, byte-identical output, no clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from email.utils import parsedate_to_datetime

import feedparser
import pytest

from digest.feeds import FeedFormat, FeedView, build_feed, entry_id, feed_id, feed_item
from digest.feeds.content import xml_text
from digest.models import StoredPaper
from digest.rank.explain import explain
from digest.rank.query import parse_query
from tests.feeds.support import ATOM, parse_xml

SEEN = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
NASTY_TITLE = "<script>alert('x')</script> Über\x07 naïve\x0bsegmentation 😀 & <b>bold</b>"
CLEAN_TITLE = "<script>alert('x')</script> Über naïve segmentation 😀 & <b>bold</b>"
BASE = "https://digest.example.org"


def stored(
    ident: int = 1,
    *,
    key: str = "arxiv:2411.01234",
    arxiv_id: str | None = "2411.01234",
    title: str = "Skin lesion segmentation with diffusion",
    abstract: str = "We study skin lesion segmentation. Code: https://github.com/acme/seg.",
    authors: tuple[str, ...] = ("Ada Lovelace", "Alan Turing"),
    author_count: int | None = None,
    organization: str | None = None,
    seen: datetime = SEEN,
) -> StoredPaper:
    return StoredPaper(
        id=ident,
        key=key,
        arxiv_id=arxiv_id,
        title=title,
        abstract=abstract,
        authors=authors,
        author_count=author_count,
        organization=organization,
        published=date(2026, 11, 20),
        upvotes=12,
        first_seen_at=seen,
        edition_id=1,
    )


def view(*papers: StoredPaper, query: str | None = "segmentation") -> FeedView:
    alerts = [(7, parse_query(query))] if query else []
    items = tuple(
        feed_item(
            paper,
            explanation=explain(
                alerts, title=paper.title, abstract=paper.abstract, snippet_chars=10_000
            ),
            base_url=BASE,
            categories=[query] if query else [],
        )
        for paper in papers
    )
    return FeedView(
        id=feed_id("search", query or ""),
        title="digest: segmentation",
        description="Recent papers matching segmentation",
        home_url=f"{BASE}/",
        atom_url=f"{BASE}/feeds/search.atom?q=segmentation",
        rss_url=f"{BASE}/feeds/search.rss?q=segmentation",
        author="digest",
        updated=max((paper.first_seen_at for paper in papers), default=SEEN),
        items=items,
    )


SAMPLE = (
    stored(),
    stored(
        2,
        key="title:a paper with no arxiv id",
        arxiv_id=None,
        title=NASTY_TITLE,
        abstract="Segmentation of <b>things</b>\x00 with \x1b[31m colour & more.",
        authors=(),
        author_count=13,
        seen=SEEN - timedelta(days=1),
    ),
    stored(
        3,
        key="title:an organisation s paper",
        arxiv_id=None,
        title="Segmentation by an organisation",
        authors=(),
        organization="General-Medical-AI",
        seen=SEEN - timedelta(days=2),
    ),
)


@pytest.mark.parametrize("fmt", list(FeedFormat))
def test_feedparser_reads_every_format_cleanly(fmt: FeedFormat) -> None:
    parsed = feedparser.parse(build_feed(view(*SAMPLE), fmt).body)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == ("atom10" if fmt is FeedFormat.ATOM else "rss20")
    assert [entry.title for entry in parsed.entries] == [
        "Skin lesion segmentation with diffusion",
        CLEAN_TITLE,  # <script> stays text; \x07 is dropped, \x0b becomes a space
        "Segmentation by an organisation",
    ]
    first = parsed.entries[0]
    assert first.link == f"{BASE}/papers/1"
    assert first.id == "tag:digest,2026:paper:arxiv:2411.01234"
    assert [tag.term for tag in first.tags] == ["segmentation"]
    assert [author.name for author in first.authors] == ["Ada Lovelace", "Alan Turing"]
    assert parsed.entries[1].authors[0].name == "13 authors"
    assert parsed.entries[2].authors[0].name == "General-Medical-AI"
    html = first.content[0].value if fmt is FeedFormat.ATOM else first.summary
    assert "<strong>segmentation</strong>" in html  # the matched term, highlighted
    assert 'href="https://arxiv.org/abs/2411.01234"' in html
    assert 'href="https://github.com/acme/seg"' in html
    assert "Ada Lovelace, Alan Turing · 20 Nov 2026 · 12 upvotes" in html


@pytest.mark.parametrize("fmt", list(FeedFormat))
def test_abstract_html_is_escaped_not_markup(fmt: FeedFormat) -> None:
    parsed = feedparser.parse(build_feed(view(*SAMPLE), fmt).body)
    entry = parsed.entries[1]
    html = entry.content[0].value if fmt is FeedFormat.ATOM else entry.summary
    assert "&lt;b&gt;things&lt;/b&gt;" in html  # shown as text, not bold
    assert "<b>" not in html
    assert "\x00" not in html
    assert "\x1b" not in html


def test_rss_required_elements() -> None:
    rss = parse_xml(build_feed(view(*SAMPLE), FeedFormat.RSS).body)
    assert rss.tag == "rss"
    assert rss.get("version") == "2.0"
    channel = rss.find("channel")
    assert channel is not None
    assert channel.findtext("title") == "digest: segmentation"
    assert channel.findtext("link") == f"{BASE}/"
    assert channel.findtext("description") == "Recent papers matching segmentation"
    self_link = channel.find(f"{ATOM}link")
    assert self_link is not None
    assert self_link.get("rel") == "self"
    assert self_link.get("href") == f"{BASE}/feeds/search.rss?q=segmentation"
    assert self_link.get("type") == "application/rss+xml"
    assert parsedate_to_datetime(channel.findtext("lastBuildDate", "")) == SEEN
    items = channel.findall("item")
    assert len(items) == 3
    for item, paper in zip(items, SAMPLE, strict=True):
        guid = item.find("guid")
        assert guid is not None
        assert guid.get("isPermaLink") == "false"  # a tag: URI, not a URL
        assert guid.text == entry_id(paper.key)
        # RFC 822 date (with a four-digit year, as RSS 2.0 recommends)
        assert parsedate_to_datetime(item.findtext("pubDate", "")) == paper.first_seen_at
        assert item.findtext("link") == f"{BASE}/papers/{paper.id}"


def test_atom_required_elements() -> None:
    feed = parse_xml(build_feed(view(*SAMPLE), FeedFormat.ATOM).body)
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}id") == feed_id("search", "segmentation")
    assert feed.findtext(f"{ATOM}title") == "digest: segmentation"
    assert datetime.fromisoformat(feed.findtext(f"{ATOM}updated", "")) == SEEN
    assert feed.findtext(f"{ATOM}author/{ATOM}name") == "digest"
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links["self"] == f"{BASE}/feeds/search.atom?q=segmentation"
    assert links["alternate"] == f"{BASE}/"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 3
    for entry, paper in zip(entries, SAMPLE, strict=True):
        assert entry.findtext(f"{ATOM}id") == entry_id(paper.key)
        assert entry.findtext(f"{ATOM}title")
        updated = entry.findtext(f"{ATOM}updated", "")
        assert updated.endswith("+00:00")  # RFC 3339 with an offset
        assert datetime.fromisoformat(updated) == paper.first_seen_at
        content = entry.find(f"{ATOM}content")
        assert content is not None
        assert content.get("type") == "html"
        link = entry.find(f"{ATOM}link")
        assert link is not None
        assert link.get("href") == f"{BASE}/papers/{paper.id}"


class _AnyDatetime(type):
    """feedgen checks isinstance(value, datetime) against the name it imported."""

    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, datetime)


def _clock_at(moment: datetime) -> type[datetime]:
    class Frozen(datetime, metaclass=_AnyDatetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Frozen:  # type: ignore[override]
            return cls.fromtimestamp(moment.timestamp(), tz)

    return Frozen


@pytest.mark.parametrize("fmt", list(FeedFormat))
def test_same_view_same_bytes_whatever_the_clock(
    fmt: FeedFormat, monkeypatch: pytest.MonkeyPatch
) -> None:
    bodies = []
    for moment in (datetime(2031, 1, 2, tzinfo=UTC), datetime(2044, 5, 6, tzinfo=UTC)):
        # feedgen stamps feeds and entries with datetime.now() unless every date is set.
        monkeypatch.setattr("feedgen.feed.datetime", _clock_at(moment))
        monkeypatch.setattr("feedgen.entry.datetime", _clock_at(moment))
        bodies.append(build_feed(view(*SAMPLE), fmt).body)
    assert bodies[0] == bodies[1]
    text = bodies[0].decode()
    assert "2031" not in text
    assert "2044" not in text
    assert "feedgen" not in text  # no generator version that changes with an upgrade
    assert build_feed(view(*SAMPLE), fmt).updated == SEEN


def test_an_empty_feed_is_still_valid() -> None:
    empty = replace(view(), updated=datetime(1970, 1, 1, tzinfo=UTC))
    for fmt in FeedFormat:
        parsed = feedparser.parse(build_feed(empty, fmt).body)
        assert parsed.bozo == 0
        assert parsed.entries == []


def test_entry_ids_come_from_the_identity_key_only() -> None:
    assert entry_id("arxiv:2411.01234") == "tag:digest,2026:paper:arxiv:2411.01234"
    hashed = entry_id("title:deep learning for x ray images")
    assert hashed.startswith("tag:digest,2026:paper:sha256:")
    assert " " not in hashed
    assert hashed == entry_id("title:deep learning for x ray images")
    assert hashed != entry_id("title:deep learning for x ray image")
    # Not the row id, not the base URL: moving hosts or databases changes nothing.
    moved = build_feed(
        replace(
            view(*(replace(paper, id=paper.id + 1000) for paper in SAMPLE)),
            home_url="https://elsewhere.example/",
        ),
        FeedFormat.ATOM,
    )
    original = build_feed(view(*SAMPLE), FeedFormat.ATOM)
    ids = [entry.id for entry in feedparser.parse(original.body).entries]
    assert ids == [entry.id for entry in feedparser.parse(moved.body).entries]


def test_xml_text_strips_what_xml_cannot_hold() -> None:
    assert xml_text("a\x00b\x07c\x1fd\ud800e\ufffef") == "abcdef"
    assert xml_text("tab\tnew\nline\r") == "tab\tnew\nline\r"
    assert xml_text("vertical\x0btab\x0cfeed") == "vertical tab feed"
    assert xml_text("C1\x80\x9f gone, ü kept") == "C1 gone, ü kept"

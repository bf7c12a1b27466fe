"""Feeds from the store: what each feed holds and in which order, tokens, identity that
survives a re-ingest or another database, and the static files."""

from __future__ import annotations

import stat
from pathlib import Path

import feedparser
import pytest
from defusedxml.ElementTree import fromstring
from sqlalchemy.engine import Engine

from digest.config import Settings, load_settings
from digest.errors import QueryError
from digest.feeds import FeedFormat, entry_id
from digest.pipeline import feeds
from digest.pipeline.access import revoke_tokens
from digest.pipeline.links import Links, service_secret
from digest.store import papers
from digest.store.db import make_engine, migrate, reading
from digest.tokens import Purpose, TokenError
from tests.conftest import NOW, SAMPLE_DUMPS
from tests.feeds.support import add_reader, atom_entry_ids, feed_token, ingest_days


@pytest.fixture
def small(settings: Settings) -> Settings:
    """The test settings with a small feed size."""
    return settings.model_copy(update={"feed_max_entries": 30})


def test_new_papers_are_the_latest_editions_newest_first(engine: Engine, small: Settings) -> None:
    times = ingest_days(engine, small)
    view = feeds.new_papers_view(engine, settings=small)
    assert len(view.items) == 30  # the newest edition alone has 122 new papers
    assert {item.seen_at for item in view.items} == {times[-1]}
    assert view.updated == times[-1]
    with reading(engine) as session:
        newest = [p for p in papers.papers_since(session) if p.first_seen_at == times[-1]]
    # In listing order within the edition, as the daily page showed them.
    assert [item.paper.key for item in view.items] == [p.key for p in newest[:30]]
    assert all(item.paper.chips == () for item in view.items)


def test_new_papers_span_editions_when_the_newest_is_small(
    engine: Engine, settings: Settings
) -> None:
    times = ingest_days(engine, settings, SAMPLE_DUMPS[:2])  # 89 then 47 new papers
    view = feeds.new_papers_view(engine, settings=settings)
    seen = [item.seen_at for item in view.items]
    assert seen == sorted(seen, reverse=True)
    assert seen.count(times[1]) == 47
    assert seen.count(times[0]) == 50 - 47


def test_search_feed_holds_matches_newest_first_explained(
    engine: Engine, settings: Settings
) -> None:
    ingest_days(engine, settings)
    view = feeds.search_view(engine, "  segmentation ", settings=settings)
    assert view.title == "digest: segmentation"
    assert view.atom_url == f"{settings.base_url}/feeds/search.atom?q=segmentation"
    assert view.items
    seen = [item.seen_at for item in view.items]
    assert seen == sorted(seen, reverse=True)
    for item in view.items:
        assert item.paper.chips == ("segmentation",)
        assert "<mark>" in item.paper.snippet_html  # the whole abstract, highlighted
        assert "…" not in item.paper.snippet_html
    # Same language and ranking as alerts and `digest search`: the same set of papers.
    everything = feeds.search_view(engine, "segmentation", settings=settings)
    assert everything.id == view.id  # spaces do not make another feed


def test_search_feed_refuses_a_bad_query(engine: Engine, settings: Settings) -> None:
    with pytest.raises(QueryError, match="unbalanced quote"):
        feeds.search_view(engine, '"skin lesion', settings=settings)
    with pytest.raises(QueryError, match="empty"):
        feeds.search_view(engine, "", settings=settings)


def test_private_feed_ranks_with_the_subscribers_alerts(engine: Engine, settings: Settings) -> None:
    ingest_days(engine, settings)
    reader = add_reader(engine, settings)
    view = feeds.private_view(
        engine, feed_token(settings, reader), settings=settings, secret=_secret(settings)
    )
    assert view.items
    alerts = {alert.query for alert in reader.alerts}
    for item in view.items:
        assert item.paper.chips
        assert set(item.paper.chips) <= alerts
    # Every alert's search feed is a subset of the private feed's candidates.
    xray = {item.paper.key for item in feeds.search_view(engine, "x-ray", settings=settings).items}
    private = {item.paper.key for item in view.items}
    assert xray & private
    assert reader.email not in feeds.build_feed(view, FeedFormat.ATOM).body.decode()


def test_private_feed_refuses_forged_other_purpose_and_revoked_tokens(
    engine: Engine, settings: Settings
) -> None:
    reader = add_reader(engine, settings)
    secret = _secret(settings)
    token = feed_token(settings, reader)
    feeds.private_view(engine, token, settings=settings, secret=secret)  # valid
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    with pytest.raises(TokenError):
        feeds.private_view(engine, forged, settings=settings, secret=secret)
    unsubscribe = Links.from_settings(settings).token(Purpose.UNSUBSCRIBE, reader)
    with pytest.raises(TokenError):
        feeds.private_view(engine, unsubscribe, settings=settings, secret=secret)
    revoke_tokens(engine, reader.id)
    with pytest.raises(TokenError):
        feeds.private_view(engine, token, settings=settings, secret=secret)


def test_same_data_gives_the_same_bytes_and_ids(engine: Engine, settings: Settings) -> None:
    ingest_days(engine, settings)
    first = [feeds.new_papers_feed(engine, settings=settings, fmt=fmt).body for fmt in FeedFormat]
    again = [feeds.new_papers_feed(engine, settings=settings, fmt=fmt).body for fmt in FeedFormat]
    assert first == again
    query = [feeds.search_feed(engine, "x-ray", settings=settings, fmt=fmt) for fmt in FeedFormat]
    assert query == [
        feeds.search_feed(engine, "x-ray", settings=settings, fmt=fmt) for fmt in FeedFormat
    ]


def test_a_reingest_into_another_database_keeps_every_byte(
    any_engine: Engine, settings: Settings
) -> None:
    """The same dumps on the same days, into a fresh SQLite database and (when marked) into
    PostgreSQL: the same feeds, byte for byte."""
    reference = make_engine("sqlite://")
    try:
        migrate(reference)
        ingest_days(reference, settings)
        ingest_days(any_engine, settings)
        for fmt in FeedFormat:
            assert (
                feeds.new_papers_feed(any_engine, settings=settings, fmt=fmt).body
                == feeds.new_papers_feed(reference, settings=settings, fmt=fmt).body
            )
            assert (
                feeds.search_feed(any_engine, "segmentation", settings=settings, fmt=fmt).body
                == feeds.search_feed(reference, "segmentation", settings=settings, fmt=fmt).body
            )
    finally:
        reference.dispose()


def test_entry_ids_follow_keys_not_row_ids(engine: Engine, settings: Settings) -> None:
    """Ingested with other dumps before, papers get other row ids but keep their entry ids."""
    ingest_days(engine, settings, SAMPLE_DUMPS[-1:])
    other = make_engine("sqlite://")
    try:
        migrate(other)
        ingest_days(other, settings, [SAMPLE_DUMPS[0], SAMPLE_DUMPS[-1]])
        ids: list[dict[str, tuple[int, str]]] = []
        for store in (engine, other):
            view = feeds.new_papers_view(store, settings=settings)
            body = feeds.build_feed(view, FeedFormat.ATOM).body
            assert atom_entry_ids(body) == [entry_id(item.paper.key) for item in view.items]
            ids.append(
                {
                    item.paper.key: (item.paper.id, entry)
                    for item, entry in zip(view.items, atom_entry_ids(body), strict=True)
                }
            )
        shared = ids[0].keys() & ids[1].keys()
        assert len(shared) > 10
        assert all(ids[0][key][0] != ids[1][key][0] for key in shared)  # other row ids
        assert all(ids[0][key][1] == ids[1][key][1] for key in shared)  # the same entry ids
    finally:
        other.dispose()


def test_write_static_feeds_atomically(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    ingest_days(engine, settings, SAMPLE_DUMPS[:1])
    out = tmp_path / "public"
    paths = feeds.write_static_feeds(engine, settings=settings, out=out)
    assert paths == [out / "new.atom", out / "new.rss"]
    assert sorted(path.name for path in out.iterdir()) == ["new.atom", "new.rss"]  # no temp
    for path, fmt in zip(paths, (FeedFormat.ATOM, FeedFormat.RSS), strict=True):
        assert path.read_bytes() == feeds.new_papers_feed(engine, settings=settings, fmt=fmt).body
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        assert feedparser.parse(path.read_bytes()).bozo == 0
    stamps = [path.stat().st_mtime_ns for path in paths]
    inodes = [path.stat().st_ino for path in paths]
    feeds.write_static_feeds(engine, settings=settings, out=out)
    assert [path.stat().st_mtime_ns for path in paths] == stamps  # unchanged: left alone
    assert [path.stat().st_ino for path in paths] == inodes
    ingest_days(engine, settings, SAMPLE_DUMPS[1:2], first=NOW)
    feeds.write_static_feeds(engine, settings=settings, out=out)
    assert [path.stat().st_ino for path in paths] != inodes  # replaced by a rename
    assert sorted(path.name for path in out.iterdir()) == ["new.atom", "new.rss"]


def test_write_static_feeds_defaults_to_the_feeds_dir(engine: Engine, tmp_path: Path) -> None:
    settings = load_settings(
        database_url="sqlite://", data_dir=tmp_path / "var", feeds_dir=tmp_path / "feeds"
    )
    paths = feeds.write_static_feeds(engine, settings=settings)
    assert [path.parent for path in paths] == [tmp_path / "feeds"] * 2
    parsed = feedparser.parse(paths[0].read_bytes())
    assert parsed.bozo == 0
    assert parsed.entries == []


def test_subscriber_opml_lists_alert_feeds_and_the_private_feed(
    engine: Engine, settings: Settings
) -> None:
    reader = add_reader(engine, settings)
    links = Links.from_settings(settings)
    body = feeds.subscriber_opml(engine, "Reader@Example.org", settings=settings, links=links)
    outlines = fromstring(body).findall("body/outline")
    urls = [outline.get("xmlUrl") for outline in outlines]
    assert urls[:3] == [
        feeds.search_url(settings.base_url, alert.query, fmt=FeedFormat.ATOM)
        for alert in reader.alerts
    ]
    private = urls[3]
    assert private is not None
    assert private.startswith(f"{settings.base_url}/feeds/private/")
    token = private.rsplit("/", 1)[1].removesuffix(".atom")
    assert feeds.private_view(engine, token, settings=settings, secret=links.secret).items == ()
    by_token = feeds.private_opml(engine, token, settings=settings, secret=links.secret)
    assert fromstring(by_token).findall("body/outline")[3].get("xmlUrl") == private


def _secret(settings: Settings) -> str:
    return service_secret(settings)

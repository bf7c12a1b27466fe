"""The cache of built feeds: repeated requests do not rebuild, and every change to what a feed
is made of (new papers, changed papers, a subscriber's alerts, a revoked token) is seen at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.engine import Engine

from digest import pipeline
from digest.config import Settings
from digest.errors import QueryError
from digest.feeds import FeedFormat, RenderedFeed
from digest.pipeline import feeds
from digest.pipeline.access import revoke_tokens
from digest.web import create_app
from digest.web.feedcache import FeedCache
from tests.conftest import NOW, SAMPLE_DUMPS
from tests.factories import Entry, abstract, text_dump
from tests.feeds.support import add_reader, atom_entry_ids, feed_token, ingest_days

pytestmark = pytest.mark.anyio


def count_builds(monkeypatch: pytest.MonkeyPatch, name: str) -> list[object]:
    """Record every call of a pipeline feed builder the routes use."""
    calls: list[object] = []
    original: Callable[..., RenderedFeed] = getattr(feeds, name)

    def counted(*args: object, **kwargs: object) -> RenderedFeed:
        calls.append(kwargs.get("fmt"))
        return original(*args, **kwargs)

    monkeypatch.setattr(feeds, name, counted)
    return calls


@pytest.mark.parametrize(
    ("path", "builder"),
    [
        ("/feeds/new.atom", "new_papers_feed"),
        ("/feeds/search.rss?q=segmentation", "search_feed"),
        ("/feeds/private/{token}.atom", "subscriber_feed"),
    ],
)
async def test_an_unchanged_archive_answers_200_and_304_from_one_build(
    client: httpx.AsyncClient,
    engine: Engine,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    builder: str,
) -> None:
    ingest_days(engine, settings, SAMPLE_DUMPS[:2])
    path = path.format(token=feed_token(settings, add_reader(engine, settings)))
    builds = count_builds(monkeypatch, builder)
    first = await client.get(path)
    again = await client.get(path)
    conditional = await client.get(path, headers={"If-None-Match": first.headers["etag"]})
    head = await client.head(path)
    assert [first.status_code, again.status_code, conditional.status_code] == [200, 200, 304]
    assert again.content == first.content
    assert conditional.headers["etag"] == head.headers["etag"] == first.headers["etag"]
    assert len(builds) == 1
    other_format = (
        path.replace(".atom", ".rss") if ".atom" in path else path.replace(".rss", ".atom")
    )
    assert (await client.get(other_format)).content != first.content  # its own entry
    assert len(builds) == 2


async def test_new_papers_make_new_feeds_of_every_kind(
    client: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    ingest_days(engine, settings, SAMPLE_DUMPS[:1])
    token = feed_token(settings, add_reader(engine, settings))
    paths = ["/feeds/new.atom", "/feeds/search.atom?q=segmentation", f"/feeds/private/{token}.atom"]
    old = {path: await client.get(path) for path in paths}
    ingest_days(engine, settings, SAMPLE_DUMPS[1:2], first=NOW + timedelta(days=1))
    for path, before in old.items():
        response = await client.get(path, headers={"If-None-Match": before.headers["etag"]})
        assert response.status_code == 200, path
        assert response.headers["etag"] != before.headers["etag"], path
        assert atom_entry_ids(response.content) != atom_entry_ids(before.content), path
    fresh = feeds.search_feed(engine, "segmentation", settings=settings, fmt=FeedFormat.ATOM)
    assert (await client.get(paths[1])).content == fresh.body


async def test_a_listing_of_known_papers_with_new_upvotes_makes_a_new_feed(
    client: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    def listing(upvotes: int) -> bytes:
        return text_dump(
            *(
                Entry(f"Paper {n} on segmentation", abstract(f"segmentation {n}"), date=date)
                for n, date in (("a", f"Nov 19, 2024 {upvotes}"), ("b", "Nov 19, 2024"))
            )
        )

    first = pipeline.ingest_bytes(engine, listing(3), source="a", settings=settings, now=NOW)
    assert (first.new, first.known) == (2, 0)
    old = await client.get("/feeds/search.atom?q=segmentation")
    assert b"3 upvotes" in old.content
    later = NOW + timedelta(days=1)
    again = pipeline.ingest_bytes(engine, listing(9), source="b", settings=settings, now=later)
    assert (again.status, again.new, again.known) == ("ingested", 0, 2)  # no new edition
    response = await client.get(
        "/feeds/search.atom?q=segmentation", headers={"If-None-Match": old.headers["etag"]}
    )
    assert response.status_code == 200
    assert b"9 upvotes" in response.content
    assert b"3 upvotes" not in response.content


async def test_an_alert_change_makes_a_new_private_feed(
    client: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    ingest_days(engine, settings, SAMPLE_DUMPS[:2])
    reader = add_reader(engine, settings, alerts=["dermatology"])
    path = f"/feeds/private/{feed_token(settings, reader)}.atom"
    first = await client.get(path)
    pipeline.add_alert(engine, reader.email, "segmentation", settings=settings, now=NOW)
    added = await client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert added.status_code == 200
    assert len(atom_entry_ids(added.content)) > len(atom_entry_ids(first.content))
    assert b"segmentation" in added.content
    pipeline.remove_alert(engine, reader.email, "segmentation")
    removed = await client.get(path, headers={"If-None-Match": added.headers["etag"]})
    assert removed.status_code == 200
    assert removed.content == first.content  # back to what the one alert gives


async def test_a_revoked_token_404s_although_its_feed_is_cached(
    client: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    ingest_days(engine, settings, SAMPLE_DUMPS[:1])
    reader = add_reader(engine, settings)
    token = feed_token(settings, reader)
    for fmt in FeedFormat:
        cached = await client.get(f"/feeds/private/{token}.{fmt.value}")
        assert cached.status_code == 200
    revoke_tokens(engine, reader.id)
    for fmt in FeedFormat:
        plain = await client.get(f"/feeds/private/{token}.{fmt.value}")
        conditional = await client.get(
            f"/feeds/private/{token}.{fmt.value}", headers={"If-None-Match": cached.headers["etag"]}
        )
        assert (plain.status_code, conditional.status_code) == (404, 404)
        assert plain.text == "not found\n"
    renewed = feed_token(settings, pipeline.find_subscriber(engine, reader.email))
    assert (await client.get(f"/feeds/private/{renewed}.atom")).status_code == 200


async def test_each_app_caches_the_feeds_of_its_own_settings(
    client: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    ingest_days(engine, settings, SAMPLE_DUMPS[:1])
    elsewhere = settings.model_copy(update={"base_url": "https://papers.example.net"})
    other = create_app(elsewhere, engine=engine, clock=lambda: NOW)
    transport = httpx.ASGITransport(app=other)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as second:
        theirs = await second.get("/feeds/new.atom")
    ours = await client.get("/feeds/new.atom")
    assert b"https://papers.example.net/papers/" in theirs.content
    assert b"https://papers.example.net" not in ours.content


def rendered(body: bytes) -> RenderedFeed:
    return RenderedFeed(body=body, media_type="application/atom+xml", updated=NOW)


def test_concurrent_requests_for_one_feed_share_one_build() -> None:
    cache = FeedCache()
    release = threading.Event()
    builds: list[int] = []

    def build() -> RenderedFeed:
        builds.append(1)
        release.wait(timeout=10)
        return rendered(b"<feed/>")

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get(1, "new", build)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    release.set()
    for thread in threads:
        thread.join(timeout=10)
    assert len(results) == 4
    assert len({id(result) for result in results}) == 1
    assert builds == [1]


def test_a_failed_build_caches_nothing() -> None:
    cache = FeedCache()

    def bad() -> RenderedFeed:
        raise QueryError("unbalanced quote")

    for _ in range(2):
        with pytest.raises(QueryError):
            cache.get(1, "search", bad)
    assert len(cache) == 0
    assert cache.get(1, "search", lambda: rendered(b"ok")).body == b"ok"


def test_a_new_version_empties_the_cache_and_the_size_is_bounded() -> None:
    cache = FeedCache(max_bytes=10)
    first = cache.get(1, "a", lambda: rendered(b"1234"))
    assert cache.get(1, "a", lambda: rendered(b"other")) is first
    cache.get(1, "b", lambda: rendered(b"5678"))
    cache.get(1, "a", lambda: rendered(b"unused"))  # a is now the most recently used
    cache.get(1, "c", lambda: rendered(b"90ab"))  # 12 bytes: the least recent, b, goes
    assert len(cache) == 2
    assert cache.get(1, "b", lambda: rendered(b"new b")).body == b"new b"
    assert cache.get(1, "too big", lambda: rendered(b"x" * 11)).body == b"x" * 11
    assert cache.get(2, "a", lambda: rendered(b"v2")).body == b"v2"
    assert len(cache) == 1
    assert first.etag == cache.get(1, "a", lambda: rendered(b"1234")).etag  # a hash of the body

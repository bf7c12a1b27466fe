"""Feed routes over HTTP: content types, validators, conditional GET, max-age, private feeds."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from email.utils import format_datetime

import feedparser
import httpx
import pytest
from markupsafe import escape
from sqlalchemy.engine import Engine

from digest.config import Settings
from digest.feeds import FeedFormat
from digest.pipeline import feeds
from digest.pipeline.access import revoke_tokens
from digest.pipeline.links import Links
from digest.tokens import Purpose
from digest.web import create_app
from tests.conftest import NOW, SAMPLE_DUMPS
from tests.feeds.support import add_reader, feed_token, ingest_days

pytestmark = pytest.mark.anyio

PUBLIC = [
    ("/feeds/new.atom", "application/atom+xml; charset=utf-8"),
    ("/feeds/new.rss", "application/rss+xml; charset=utf-8"),
    ("/feeds/search.atom?q=segmentation", "application/atom+xml; charset=utf-8"),
    ("/feeds/search.rss?q=segmentation", "application/rss+xml; charset=utf-8"),
]


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


@pytest.mark.parametrize(("path", "content_type"), PUBLIC)
async def test_public_feeds_carry_type_validators_and_max_age(
    client: httpx.AsyncClient, engine: Engine, settings: Settings, path: str, content_type: str
) -> None:
    times = ingest_days(engine, settings, SAMPLE_DUMPS[:2])
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["etag"] == f'"{hashlib.sha256(response.content).hexdigest()[:32]}"'
    assert response.headers["last-modified"] == http_date(times[-1])
    # NOW is 06:00 UTC, the daily run is at 06:00 UTC: the next one is a day away.
    assert response.headers["cache-control"] == "public, max-age=86400"
    assert "referrer-policy" not in response.headers
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0
    assert parsed.entries
    fmt = FeedFormat.ATOM if ".atom" in path else FeedFormat.RSS
    if path.startswith("/feeds/new"):
        assert response.content == feeds.new_papers_feed(engine, settings=settings, fmt=fmt).body


async def test_max_age_runs_until_the_next_local_daily_run(
    engine: Engine, settings: Settings
) -> None:
    paris = settings.model_copy(update={"daily_run_at": "07:30", "timezone": "Europe/Paris"})
    app = create_app(paris, engine=engine, clock=lambda: NOW)  # 07:00 in Paris
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        response = await client.get("/feeds/new.atom")
    assert response.headers["cache-control"] == "public, max-age=1800"


async def test_conditional_get(
    client: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    times = ingest_days(engine, settings, SAMPLE_DUMPS[:1])
    first = await client.get("/feeds/new.rss")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    later = http_date(times[-1] + timedelta(hours=1))
    earlier = http_date(times[-1] - timedelta(seconds=1))
    not_modified = [
        {"If-None-Match": etag},
        {"If-None-Match": f"W/{etag}"},
        {"If-None-Match": f'"other", {etag}'},
        {"If-None-Match": "*"},
        {"If-Modified-Since": modified},
        {"If-Modified-Since": later},
    ]
    for headers in not_modified:
        response = await client.get("/feeds/new.rss", headers=headers)
        assert response.status_code == 304, headers
        assert response.content == b""
        assert response.headers["etag"] == etag
        assert response.headers["last-modified"] == modified
        assert response.headers["cache-control"] == "public, max-age=86400"
    modified_again = [
        {"If-None-Match": '"other"'},
        {"If-Modified-Since": earlier},
        {"If-Modified-Since": "not a date"},
        # If-None-Match wins over If-Modified-Since when both are sent (RFC 9110).
        {"If-None-Match": '"other"', "If-Modified-Since": later},
    ]
    for headers in modified_again:
        response = await client.get("/feeds/new.rss", headers=headers)
        assert response.status_code == 200, headers
        assert response.content == first.content


async def test_new_data_makes_a_new_feed(
    client: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    ingest_days(engine, settings, SAMPLE_DUMPS[:1])
    old = await client.get("/feeds/new.atom")
    [later] = ingest_days(engine, settings, SAMPLE_DUMPS[1:2], first=NOW)
    validators = {
        "If-None-Match": old.headers["etag"],
        "If-Modified-Since": old.headers["last-modified"],
    }
    fresh = await client.get("/feeds/new.atom", headers=validators)
    assert fresh.status_code == 200
    assert fresh.headers["etag"] != old.headers["etag"]
    assert fresh.headers["last-modified"] == http_date(later)
    again = await client.get(
        "/feeds/new.atom", headers={"If-Modified-Since": old.headers["last-modified"]}
    )
    assert again.status_code == 200  # compared as a date: the feed is newer


async def test_head_answers_like_get_without_a_body(
    client: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    ingest_days(engine, settings, SAMPLE_DUMPS[:1])
    get = await client.get("/feeds/new.atom")
    head = await client.head("/feeds/new.atom")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == get.headers["etag"]


async def test_a_bad_query_is_a_400_that_says_why(client: httpx.AsyncClient) -> None:
    response = await client.get("/feeds/search.atom", params={"q": 'skin "lesion'})
    assert response.status_code == 400
    assert "unbalanced quote" in response.text
    response = await client.get("/feeds/search.rss")
    assert response.status_code == 400
    assert "empty" in response.text
    response = await client.get("/feeds/search.rss", params={"q": "title:-skin"})
    assert response.status_code == 400
    assert "-title:skin" in response.text


async def test_an_unknown_format_is_a_404(client: httpx.AsyncClient) -> None:
    for path in ("/feeds/new.xml", "/feeds/search.json?q=skin", "/feeds/private/x.html"):
        assert (await client.get(path)).status_code == 404, path


async def test_private_feed_headers_and_content(
    client: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    ingest_days(engine, settings, SAMPLE_DUMPS[:2])
    token = feed_token(settings, add_reader(engine, settings))
    for fmt in FeedFormat:
        response = await client.get(f"/feeds/private/{token}.{fmt.value}")
        assert response.status_code == 200
        assert response.headers["content-type"] == f"{fmt.media_type}; charset=utf-8"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-robots-tag"] == "noindex"
        assert response.headers["cache-control"] == "private, max-age=86400"
        parsed = feedparser.parse(response.content)
        assert parsed.bozo == 0
        assert parsed.entries
        assert parsed.feed.title == "digest: your alerts"
        again = await client.get(
            f"/feeds/private/{token}.{fmt.value}",
            headers={"If-None-Match": response.headers["etag"]},
        )
        assert again.status_code == 304
        assert again.headers["referrer-policy"] == "no-referrer"


async def test_private_feed_404s_for_forged_other_purpose_and_revoked_tokens(
    client: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    reader = add_reader(engine, settings)
    token = feed_token(settings, reader)
    assert (await client.get(f"/feeds/private/{token}.atom")).status_code == 200
    unsubscribe = Links.from_settings(settings).token(Purpose.UNSUBSCRIBE, reader)
    for bad in (f"{token}x", token[1:], unsubscribe, "", "nonsense"):
        response = await client.get(f"/feeds/private/{bad}.atom")
        assert response.status_code == 404, bad
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.text == "not found\n"
    revoke_tokens(engine, reader.id)  # a new token_nonce in the store
    for suffix in ("atom", "rss", "opml"):
        assert (await client.get(f"/feeds/private/{token}.{suffix}")).status_code == 404


async def test_private_opml(client: httpx.AsyncClient, engine: Engine, settings: Settings) -> None:
    token = feed_token(settings, add_reader(engine, settings))
    response = await client.get(f"/feeds/private/{token}.opml")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/x-opml; charset=utf-8"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert f"/feeds/private/{token}.atom" in response.text
    assert "/feeds/search.atom?q=x-ray" in response.text


async def test_feed_links_open_paper_pages(
    client: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    ingest_days(engine, settings, SAMPLE_DUMPS[:1])
    parsed = feedparser.parse((await client.get("/feeds/new.atom")).content)
    for entry in parsed.entries[:3]:
        assert entry.link.startswith(f"{settings.base_url}/papers/")
        page = await client.get(entry.link.removeprefix(settings.base_url))
        assert page.status_code == 200
        assert f"<h1>{escape(entry.title)}</h1>" in page.text

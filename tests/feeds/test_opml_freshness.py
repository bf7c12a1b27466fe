"""OPML export and the time until feeds can next change."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from defusedxml.ElementTree import fromstring

from digest.feeds import Outline, build_opml
from digest.feeds.freshness import next_daily_run, seconds_until_next_run


def test_opml_lists_outlines_in_order_deterministically() -> None:
    outlines = [
        Outline(
            title='skin "lesion" <b>',
            xml_url="https://x/feeds/search.atom?q=a&b=c",
            html_url="https://x/",
        ),
        Outline(
            title="bell\x07 private",
            xml_url="https://x/feeds/private/T.atom",
            html_url="https://x/",
        ),
    ]
    body = build_opml("digest feeds", outlines)
    assert body == build_opml("digest feeds", outlines)
    root = fromstring(body)
    assert root.tag == "opml"
    assert root.get("version") == "2.0"
    assert root.findtext("head/title") == "digest feeds"
    found = root.findall("body/outline")
    assert [outline.get("title") for outline in found] == ['skin "lesion" <b>', "bell private"]
    assert [outline.get("text") for outline in found] == ['skin "lesion" <b>', "bell private"]
    assert found[0].get("xmlUrl") == "https://x/feeds/search.atom?q=a&b=c"
    assert {outline.get("type") for outline in found} == {"rss"}
    assert body.startswith(b"<?xml version='1.0' encoding='utf-8'?>")


@pytest.mark.parametrize(
    ("now", "at", "zone", "expected"),
    [
        # before today's run: today; at or after it: tomorrow
        (
            datetime(2026, 11, 24, 5, 0, tzinfo=UTC),
            "06:00",
            "UTC",
            datetime(2026, 11, 24, 6, 0, tzinfo=UTC),
        ),
        (
            datetime(2026, 11, 24, 6, 0, tzinfo=UTC),
            "06:00",
            "UTC",
            datetime(2026, 11, 25, 6, 0, tzinfo=UTC),
        ),
        # local time: 07:30 in Paris is 06:30 UTC in winter
        (
            datetime(2026, 11, 24, 6, 0, tzinfo=UTC),
            "07:30",
            "Europe/Paris",
            datetime(2026, 11, 24, 6, 30, tzinfo=UTC),
        ),
        # the day the clocks go forward in Paris (29 March 2026): 06:00 CEST is 04:00 UTC
        (
            datetime(2026, 3, 28, 23, 0, tzinfo=UTC),
            "06:00",
            "Europe/Paris",
            datetime(2026, 3, 29, 4, 0, tzinfo=UTC),
        ),
        # a local date other than the UTC date: 20:00 UTC is 05:00 tomorrow in Tokyo
        (
            datetime(2026, 11, 24, 20, 0, tzinfo=UTC),
            "06:00",
            "Asia/Tokyo",
            datetime(2026, 11, 24, 21, 0, tzinfo=UTC),
        ),
    ],
)
def test_next_daily_run(now: datetime, at: str, zone: str, expected: datetime) -> None:
    assert next_daily_run(now, at=at, timezone=zone) == expected


def test_seconds_until_next_run() -> None:
    now = datetime(2026, 11, 24, 6, 0, 0, 500_000, tzinfo=UTC)
    assert seconds_until_next_run(now, at="06:00", timezone="UTC") == 86_400  # rounded up
    assert seconds_until_next_run(now, at="06:01", timezone="UTC") == 60

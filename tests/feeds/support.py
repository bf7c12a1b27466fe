"""Shared by the feed and web tests: the sample dumps ingested one simulated day each, and
readers of RSS and Atom documents for checking required elements."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from xml.etree.ElementTree import Element

from defusedxml.ElementTree import fromstring
from sqlalchemy.engine import Engine

from digest import pipeline
from digest.config import Settings
from digest.models import SubscriberInfo
from digest.pipeline.links import Links
from tests.conftest import NOW, SAMPLE_DUMPS

ATOM = "{http://www.w3.org/2005/Atom}"
FIRST_DAY = NOW - timedelta(days=len(SAMPLE_DUMPS) - 1)  # the last dump is ingested at NOW
ALERTS = ("segmentation", "x-ray", "dermatology skin OR melanoma")


def ingest_days(
    engine: Engine,
    settings: Settings,
    dumps: Sequence[Path] = SAMPLE_DUMPS,
    *,
    first: datetime = FIRST_DAY,
) -> list[datetime]:
    """Ingest each dump on its own day (one edition each); returns the ingest times."""
    times = [first + timedelta(days=offset) for offset in range(len(dumps))]
    for path, moment in zip(dumps, times, strict=True):
        [result] = pipeline.ingest_paths(engine, [path], settings=settings, now=moment)
        assert result.status == "ingested", result
    return times


def add_reader(
    engine: Engine, settings: Settings, *, alerts: Sequence[str] = ALERTS
) -> SubscriberInfo:
    """An active subscriber with alerts."""
    return pipeline.add_subscriber(
        engine, "reader@example.org", alerts=list(alerts), settings=settings, now=NOW
    )


def feed_token(settings: Settings, subscriber: SubscriberInfo) -> str:
    """A FEED token for the subscriber, as their welcome mail links it."""
    url = Links.from_settings(settings).feed_url(subscriber, kind="atom")
    return url.rsplit("/", 1)[1].removesuffix(".atom")


def parse_xml(body: bytes) -> Element:
    """A feed's root element (defusedxml, as the service parses XML it did not write)."""
    root: Element = fromstring(body)
    return root


def atom_entry_ids(body: bytes) -> list[str]:
    """The ids of an Atom feed's entries, in order."""
    return [entry.findtext(f"{ATOM}id", "") for entry in parse_xml(body).iter(f"{ATOM}entry")]

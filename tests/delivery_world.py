"""A small world for the delivery tests: settings, dumps one per simulated day, subscribers,
a movable clock, the ledger as rows, and messages parsed back with the `email` package."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select

from digest import pipeline
from digest.config import Settings
from digest.deliver.mailer import Mailer, OutgoingMessage, SendOutcome
from digest.models import IngestResult, SubscriberInfo
from digest.store import deliveries, editions, papers, subscribers
from digest.store.db import reading, transaction
from digest.store.deliveries import DeliveryRow
from digest.store.tables import Subscriber
from tests.conftest import SAMPLE_DUMPS
from tests.factories import Entry, abstract, json_dump, text_dump
from tests.smtpserver import SmtpServer

# Each sample dump arrives at 05:00 UTC on its own day; digests go out after 07:00.
DAY0 = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)
SEND_AT = timedelta(hours=3)
POSTAL = "Example Lab, 1 Research Road, 12345 Science City"
BASE_URL = "https://digest.example.org"
DOMAIN = "example.org"


def day(number: int, *, hours: float = 0) -> datetime:
    """The moment dump `number` arrives, plus `hours`."""
    return DAY0 + timedelta(days=number, hours=hours)


class Clock:
    """A clock the tests move by hand; pass it as `clock=`."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move forward by a timedelta's keywords; returns the new time."""
        self.now += timedelta(**delta)
        return self.now

    def set(self, moment: datetime) -> datetime:
        """Jump to a moment (never backwards)."""
        assert moment >= self.now
        self.now = moment
        return moment


def mail_settings(settings: Settings, **changes: Any) -> Settings:
    """The test settings with what sending needs: a postal address, an https base URL, a From
    address with a real domain; `changes` override any of them."""
    values: dict[str, Any] = {
        "postal_address": POSTAL,
        "base_url": BASE_URL,
        "mail_from": f"Paper Digest <digest@{DOMAIN}>",
        "list_id": f"digest.{DOMAIN}",
        "mail_transport": "memory",
    }
    values.update(changes)
    return settings.model_copy(update=values)


def smtp_settings(settings: Settings, server: SmtpServer, **changes: Any) -> Settings:
    """Mail settings that send to the test SMTP server."""
    values: dict[str, Any] = {
        "mail_transport": "smtp",
        "smtp_host": server.host,
        "smtp_port": server.port,
        "smtp_timeout": 5.0,
    }
    values.update(changes)
    return mail_settings(settings, **values)


def ingest_day(engine: Engine, settings: Settings, number: int) -> IngestResult:
    """Ingest sample dump `number` on its day."""
    (result,) = pipeline.ingest_paths(
        engine, [SAMPLE_DUMPS[number]], settings=settings, now=day(number)
    )
    assert result.status == "ingested", result
    return result


def ingest_entries(
    engine: Engine, settings: Settings, tmp_path: Path, *titles: str, now: datetime
) -> IngestResult:
    """Ingest a crafted text dump whose entries have these titles."""
    path = tmp_path / f"crafted-{now:%Y%m%d%H%M}.txt"
    entries = [Entry(title, abstract(f"topic {n} of {title}")) for n, title in enumerate(titles)]
    path.write_bytes(text_dump(*entries))
    (result,) = pipeline.ingest_paths(engine, [path], settings=settings, now=now)
    assert result.status == "ingested", result
    return result


def ingest_items(
    engine: Engine, settings: Settings, tmp_path: Path, *items: dict[str, object], now: datetime
) -> IngestResult:
    """Ingest a crafted daily papers JSON dump (items from `tests.factories.api_item`)."""
    path = tmp_path / f"crafted-{now:%Y%m%d%H%M}.json"
    path.write_bytes(json_dump(*items))
    (result,) = pipeline.ingest_paths(engine, [path], settings=settings, now=now)
    assert result.status == "ingested", result
    return result


def subscribe(
    engine: Engine,
    settings: Settings,
    address: str,
    *alerts: str,
    status: str = "active",
    now: datetime = DAY0 - timedelta(days=1),
    **prefs: Any,
) -> SubscriberInfo:
    """Add a subscriber (active unless told) with alerts and preferences."""
    return pipeline.add_subscriber(
        engine,
        address,
        alerts=list(alerts),
        settings=settings,
        now=now,
        status=status,
        prefs=pipeline.Preferences(**prefs),
    )


def set_status(engine: Engine, subscriber: SubscriberInfo, status: str, *, now: datetime) -> None:
    """Unsubscribe, bounce or reactivate a subscriber directly in the store."""
    with transaction(engine) as session:
        subscribers.set_status(session, subscriber.id, status=status, now=now)


def status_of(engine: Engine, subscriber: SubscriberInfo) -> str:
    """A subscriber's status now."""
    with reading(engine) as session:
        info = subscribers.get_subscriber(session, subscriber.id)
    assert info is not None
    return info.status


def bounce_score(engine: Engine, address: str) -> int:
    """The soft bounces counted against an address since its last delivery."""
    with reading(engine) as session:
        row = session.exec(select(Subscriber).where(Subscriber.email == address)).one()
        return row.bounce_score


def ledger(engine: Engine) -> list[DeliveryRow]:
    """Every ledger row, oldest first."""
    with reading(engine) as session:
        return sorted(deliveries.list_rows(session, limit=100_000), key=lambda row: row.id)


def rows_of(engine: Engine, subscriber: SubscriberInfo) -> list[DeliveryRow]:
    """One subscriber's ledger rows, oldest first."""
    return [row for row in ledger(engine) if row.subscriber_id == subscriber.id]


def paper_ids(row: DeliveryRow) -> list[int]:
    """The papers a ledger row sends, in order."""
    return [int(item["id"]) for item in row.content["papers"]]


def edition_papers(engine: Engine, edition_ids: Iterable[int]) -> set[int]:
    """The ids of the papers new in these editions."""
    with reading(engine) as session:
        return {paper.id for paper in papers.papers_since(session, edition_ids=list(edition_ids))}


def editions_by_day(engine: Engine) -> dict[str, int]:
    """Edition ids by their day (ISO)."""
    with reading(engine) as session:
        return {day.isoformat(): ident for ident, day in editions.list_editions(session)}


@dataclass(frozen=True)
class Parsed:
    """A received message parsed with the standard library, and its raw bytes."""

    message: EmailMessage
    raw: bytes

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        assert part is not None
        return str(part.get_content())


def parse(data: bytes) -> Parsed:
    """Parse message bytes with `email.policy.default`."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return Parsed(message=message, raw=data)


def message_ids(server: SmtpServer) -> list[str]:
    """The Message-ID of every message the server accepted, in order."""
    return [str(parse(received.data).message["Message-ID"]) for received in server.messages]


class Recording:
    """A mailer that keeps every message offered to the one it wraps (attempts, not deliveries)."""

    def __init__(self, inner: Mailer) -> None:
        self.inner = inner
        self.offered: list[OutgoingMessage] = []

    def send(self, messages: Sequence[OutgoingMessage]) -> list[SendOutcome]:
        """Record, then pass on."""
        self.offered.extend(messages)
        return self.inner.send(messages)

    def close(self) -> None:
        """Close the wrapped mailer."""
        self.inner.close()

    def offers_to(self, recipient: str) -> list[OutgoingMessage]:
        """The messages offered for one recipient, in order."""
        return [message for message in self.offered if message.recipient == recipient]

"""Two senders claiming from one ledger at once (threads, each with its own engine): no row is
sent twice. PostgreSQL shares the rows with SKIP LOCKED; SQLite claims under its write lock."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from digest import pipeline
from digest.config import Settings
from digest.deliver.mailer import OutgoingMessage, SendOutcome
from digest.deliver.memory import MemoryMailer
from digest.pipeline.planning import plan_deliveries
from digest.pipeline.sending import SendReport, send_pending
from digest.store.db import make_engine
from tests.delivery_world import day, ingest_items, ledger, mail_settings, subscribe
from tests.factories import abstract, api_item

READERS = 40


class SlowMailer(MemoryMailer):
    """The in-memory mailer, a few milliseconds per call, so that two senders interleave."""

    def send(self, messages: Sequence[OutgoingMessage]) -> list[SendOutcome]:
        time.sleep(0.005)
        return super().send(messages)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database several engines can open: a SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'digest.db'}"
        return
    url: URL = request.getfixturevalue("postgres_schema_url")
    yield url.render_as_string(hide_password=False)


def test_two_senders_never_send_one_row_twice(
    database_url: str, settings: Settings, tmp_path: Path
) -> None:
    mail = mail_settings(settings, database_url=database_url)
    engine = pipeline.open_store(mail)
    ingest_items(
        engine,
        mail,
        tmp_path,
        api_item("2611.00001", "Lesion segmentation", abstract("lesions"), upvotes=3),
        now=day(0),
    )
    for n in range(READERS):
        subscribe(engine, mail, f"reader{n:02d}@example.com", max_papers=1)
    assert plan_deliveries(engine, settings=mail, now=day(0, hours=3)).planned == READERS

    mailers = [SlowMailer(), SlowMailer()]
    reports: list[SendReport | None] = [None, None]
    start = threading.Barrier(2)

    def sender(number: int) -> None:
        own = make_engine(database_url)
        try:
            start.wait()
            reports[number] = send_pending(
                own, mailers[number], settings=mail, clock=lambda: day(0, hours=3), batch=2
            )
        finally:
            own.dispose()

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    sent = [message.message_id for mailer in mailers for message in mailer.attempts]
    assert len(sent) == len(set(sent)) == READERS
    assert sorted(sent) == sorted(row.message_id for row in ledger(engine))
    assert {row.state for row in ledger(engine)} == {"sent"}
    assert [report.sent if report else 0 for report in reports] == [
        len(mailer.sent) for mailer in mailers
    ]
    assert all(mailer.sent for mailer in mailers)  # both took part
    engine.dispose()

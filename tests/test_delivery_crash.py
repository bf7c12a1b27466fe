"""A `digest send` process killed (SIGKILL) in the middle of a run, then a run to completion:
every reader gets the edition, and only the one message in flight at the kill may come twice."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from digest import pipeline
from digest.config import Settings
from digest.pipeline.sending import LEASE
from tests.delivery_world import (
    ingest_items,
    ledger,
    message_ids,
    smtp_settings,
    subscribe,
)
from tests.factories import abstract, api_item
from tests.smtpserver import SmtpServer

pytestmark = [pytest.mark.smtp, pytest.mark.slow]

READERS = 20
KILL_AFTER = 5  # messages the server accepted before the kill


def _environment(settings: Settings) -> dict[str, str]:
    """The parent's environment without DIGEST_* variables, plus these settings."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("DIGEST_")}
    for name in (
        "database_url",
        "data_dir",
        "mail_transport",
        "smtp_host",
        "smtp_port",
        "smtp_connections",
        "smtp_timeout",
        "postal_address",
        "mail_from",
        "base_url",
        "list_id",
    ):
        env[f"DIGEST_{name.upper()}"] = str(getattr(settings, name))
    return env


def _wait_for(condition: Callable[[], bool], process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        if process.poll() is not None:
            _, err = process.communicate()
            pytest.fail(f"digest send ended before the kill: {err.decode()[-2000:]}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("digest send made no progress in 60 s")
        time.sleep(0.01)


def test_a_killed_sender_resumes_and_repeats_at_most_the_message_in_flight(
    settings: Settings, tmp_path: Path, smtp_server: Callable[..., SmtpServer]
) -> None:
    # Every reply comes 30 ms late, so the kill lands in the middle of the run.
    server = smtp_server(delay=0.03)
    mail = smtp_settings(
        settings,
        server,
        database_url=f"sqlite:///{tmp_path / 'digest.db'}",
        smtp_connections=1,  # one message in flight at a time
    )
    engine = pipeline.open_store(mail)
    now = datetime.now(UTC)  # the subprocess plans and claims with the real clock
    ingest_items(
        engine,
        mail,
        tmp_path,
        api_item("2611.00001", "Lesion segmentation", abstract("lesions"), upvotes=3),
        api_item("2611.00002", "Chest X-ray reports", abstract("radiology"), upvotes=1),
        now=now,
    )
    readers = [
        subscribe(engine, mail, f"reader{n:02d}@example.com", max_papers=2, now=now).email
        for n in range(READERS)
    ]

    process = subprocess.Popen(
        [sys.executable, "-m", "digest", "send", "--all-hours"],
        cwd=tmp_path,
        env=_environment(mail),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _wait_for(lambda: len(server.messages) >= KILL_AFTER, process)
    process.kill()
    process.communicate()
    accepted = len(server.messages)
    assert KILL_AFTER <= accepted < READERS
    states = Counter(row.state for row in ledger(engine))
    # The kill may fall between the server's acceptance and the ledger's commit: one row.
    assert states["sent"] in (accepted - 1, accepted)
    assert states == {"sent": states["sent"], "sending": READERS - states["sent"]}

    # Rows left `sending` by the dead process are taken again once their lease has run out.
    server.delay = 0.0
    later = datetime.now(UTC) + LEASE + timedelta(minutes=1)
    early = pipeline.deliver(engine, settings=mail, clock=lambda: datetime.now(UTC))
    assert early.send.claimed == 0  # within the lease the rows still belong to the dead run
    run = pipeline.deliver(engine, settings=mail, clock=lambda: later)
    assert run.send.sent == READERS - states["sent"]
    assert Counter(row.state for row in ledger(engine)) == {"sent": READERS}

    per_reader = Counter(message.rcpt_tos[0] for message in server.messages)
    assert set(per_reader) == set(readers)
    repeated = Counter(message_ids(server))
    assert len(repeated) == READERS
    assert sum(count - 1 for count in repeated.values()) <= 1
    assert sum(count - 1 for count in per_reader.values()) <= 1
    engine.dispose()

"""The daily job in one function, and the demo that runs it over the sample dumps."""

from __future__ import annotations

import email
import shutil
import subprocess
import sys
from datetime import datetime
from email.policy import default as default_policy
from pathlib import Path

import feedparser
import pytest
from sqlalchemy.engine import Engine

from digest.config import Settings
from digest.deliver.memory import MemoryMailer
from digest.pipeline import add_subscriber, gather_stats, ledger_counts
from digest.pipeline.daily import run_daily
from tests.conftest import SAMPLE_DUMPS

ROOT = Path(__file__).parent.parent


@pytest.fixture
def daily_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(
        update={
            "postal_address": "1 Lab Road, Science City",
            "feeds_dir": tmp_path / "feeds",
            "maildir_path": tmp_path / "maildir",
        }
    )


def test_one_day_ingests_sends_and_writes_feeds(
    engine: Engine, daily_settings: Settings, now: datetime
) -> None:
    add_subscriber(engine, "ana@example.org", alerts=["x-ray"], settings=daily_settings, now=now)
    daily_settings.inbox_dir.mkdir(parents=True)
    shutil.copy(SAMPLE_DUMPS[0], daily_settings.inbox_dir)
    mailer = MemoryMailer()
    report = run_daily(daily_settings, now, engine=engine, mailer=mailer, respect_send_hour=False)
    assert report.ok, report
    assert [stage.name for stage in report.stages] == ["ingest", "deliver", "feeds"]
    assert report.stage("ingest").counts["new"] == 89  # type: ignore[union-attr]
    assert report.stage("deliver").counts["sent"] == 1  # type: ignore[union-attr]
    assert [m.recipient for m in mailer.sent] == ["ana@example.org"]
    assert (daily_settings.inbox_dir / "done" / SAMPLE_DUMPS[0].name).is_file()
    for name in ("new.atom", "new.rss"):
        parsed = feedparser.parse((daily_settings.feeds_dir / name).read_bytes())
        assert parsed.bozo == 0
        assert len(parsed.entries) == 50
    # The same day again: nothing new to ingest, nothing sent twice.
    again = run_daily(daily_settings, now, engine=engine, mailer=mailer, respect_send_hour=False)
    assert again.ok
    assert again.stage("deliver").counts["sent"] == 0  # type: ignore[union-attr]
    assert len(mailer.sent) == 1


def test_a_failing_stage_is_reported_and_later_stages_still_run(
    engine: Engine, settings: Settings, now: datetime, tmp_path: Path
) -> None:
    # No postal address: sending must refuse to start; feeds are still written.
    unsendable = settings.model_copy(update={"feeds_dir": tmp_path / "feeds"})
    report = run_daily(unsendable, now, engine=engine, mailer=MemoryMailer())
    assert not report.ok
    deliver = report.stage("deliver")
    assert deliver is not None
    assert not deliver.ok
    assert "postal_address" in (deliver.error or "")
    feeds = report.stage("feeds")
    assert feeds is not None
    assert feeds.ok
    assert (tmp_path / "feeds" / "new.atom").is_file()


def test_run_exits_non_zero_when_a_stage_failed(tmp_path: Path) -> None:
    env = {
        "DIGEST_DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}",
        "DIGEST_DATA_DIR": str(tmp_path),
        "DIGEST_INBOX_DIR": str(tmp_path / "inbox"),
        "DIGEST_FEEDS_DIR": str(tmp_path / "feeds"),
        "DIGEST_CONFIG": str(ROOT / "config" / "digest.toml"),
        "PATH": "/usr/bin:/bin",
    }
    command = [sys.executable, "-m", "digest", "run", "--json"]
    failed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert failed.returncode == 1, failed.stderr
    assert '"postal_address' in failed.stdout or "postal_address" in failed.stdout
    env["DIGEST_POSTAL_ADDRESS"] = "1 Lab Road"
    ok = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr


@pytest.mark.slow
def test_the_demo_runs_the_daily_job_for_four_days(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    env = {
        "DIGEST_FEEDS_DIR": str(tmp_path / "feeds"),
        "DIGEST_CONFIG": str(ROOT / "config" / "digest.toml"),
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-m", "digest", "demo", "--folder", str(folder)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "where everything went" in result.stdout
    from digest.store.db import make_engine

    engine = make_engine(f"sqlite:///{folder / 'digest.db'}")
    stats = gather_stats(engine)
    assert (stats.papers, stats.listings, stats.editions) == (313, 4, 4)
    # Four daily subscribers get a digest each day; the weekly one once.
    assert ledger_counts(engine) == {"sent": 17}
    mails = sorted((folder / "maildir" / "new").iterdir())
    assert len(mails) == 17
    recipients = sorted(
        str(email.message_from_bytes(m.read_bytes(), policy=default_policy)["To"]) for m in mails
    )
    assert recipients.count("ben@example.org") == 1
    assert recipients.count("ana@example.org") == 4
    assert (folder / "digest.eml").is_file()
    assert (folder / "digest.html").is_file()
    for name in ("new.atom", "new.rss"):
        parsed = feedparser.parse((tmp_path / "feeds" / name).read_bytes())
        assert parsed.bozo == 0
        assert parsed.entries
    engine.dispose()

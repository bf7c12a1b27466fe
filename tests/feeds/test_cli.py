"""`digest feeds write` and `digest feeds opml` in-process, on a SQLite file."""

from __future__ import annotations

import os
from pathlib import Path

import feedparser
import pytest
from defusedxml.ElementTree import fromstring
from typer.testing import CliRunner

from digest.cli import app
from digest.cli import commands as _commands  # noqa: F401  (registers the commands)
from digest.config import load_settings
from digest.store.db import make_engine, migrate
from tests.conftest import SAMPLE_DUMPS
from tests.feeds.support import add_reader, ingest_days


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder whose SQLite file holds one dump and a subscriber."""
    for name in list(os.environ):
        if name.startswith("DIGEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'digest.db'}"
    monkeypatch.setenv("DIGEST_DATABASE_URL", url)
    monkeypatch.setenv("DIGEST_DATA_DIR", str(tmp_path / "var"))
    settings = load_settings(database_url=url, data_dir=tmp_path / "var")
    engine = make_engine(url)
    try:
        migrate(engine)
        ingest_days(engine, settings, SAMPLE_DUMPS[:1])
        add_reader(engine, settings)
    finally:
        engine.dispose()
    return tmp_path


def test_feeds_write_to_the_feeds_dir_and_to_out(home: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["feeds", "write"])
    assert result.exit_code == 0, result.output
    for name in ("new.atom", "new.rss"):
        parsed = feedparser.parse((home / "feeds" / name).read_bytes())
        assert parsed.bozo == 0
        assert len(parsed.entries) == 50
        assert name in result.output
    result = runner.invoke(app, ["feeds", "write", "--out", str(home / "elsewhere")])
    assert result.exit_code == 0, result.output
    assert (home / "elsewhere" / "new.atom").read_bytes() == (
        home / "feeds" / "new.atom"
    ).read_bytes()


def test_feeds_opml_prints_or_writes(home: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["feeds", "opml", "reader@example.org"])
    assert result.exit_code == 0, result.output
    outlines = fromstring(result.stdout_bytes).findall("body/outline")
    assert len(outlines) == 4  # three alerts and the private feed
    result = runner.invoke(app, ["feeds", "opml", "reader@example.org", "--out", "mine.opml"])
    assert result.exit_code == 0, result.output
    assert len(fromstring((home / "mine.opml").read_bytes()).findall("body/outline")) == 4


def test_feeds_opml_of_an_unknown_address_fails(home: Path) -> None:
    result = CliRunner().invoke(app, ["feeds", "opml", "nobody@example.org"])
    assert result.exit_code != 0
    assert not (home / "mine.opml").exists()

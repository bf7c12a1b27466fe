"""Shared fixtures: settings, an in-memory store per test, and the sample dumps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from digest.config import Settings, load_settings
from digest.store.db import make_engine, migrate

DATA = Path(__file__).parent / "data"
DUMPS = DATA / "dumps"
SAMPLE_DUMPS = sorted(DUMPS.glob("*.txt"))
NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings that point every path into the test's own folder."""
    return load_settings(
        database_url="sqlite://",
        data_dir=tmp_path / "var",
        inbox_dir=tmp_path / "inbox",
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """A migrated in-memory SQLite database."""
    engine = make_engine(settings.database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def now() -> datetime:
    """The fixed clock of the tests."""
    return NOW

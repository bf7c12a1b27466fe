"""The four sample dumps, ingested in file-name order, give the documented counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from digest.config import Settings
from digest.pipeline import gather_stats, ingest_paths
from tests.conftest import DUMPS, SAMPLE_DUMPS


def test_sample_dumps_counts(engine: Engine, settings: Settings, now: datetime) -> None:
    results = ingest_paths(engine, [DUMPS], settings=settings, now=now)
    assert [r.status for r in results] == ["ingested"] * 4
    assert [r.entries for r in results] == [89, 72, 79, 144]
    assert [r.new for r in results] == [89, 47, 55, 122]
    assert [r.known for r in results] == [0, 25, 24, 22]
    assert gather_stats(engine).papers == 313


def test_ingesting_again_adds_nothing(engine: Engine, settings: Settings, now: datetime) -> None:
    ingest_paths(engine, SAMPLE_DUMPS, settings=settings, now=now)
    before = gather_stats(engine)
    again = ingest_paths(engine, SAMPLE_DUMPS, settings=settings, now=now)
    assert [r.status for r in again] == ["skipped"] * 4
    assert all(r.new == 0 for r in again)
    assert gather_stats(engine) == before

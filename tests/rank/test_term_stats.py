"""Archive term statistics: kept at ingest equal to a recount, rebuilt when stale."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy.engine import Engine

from digest.config import Settings
from digest.pipeline import ensure_term_stats, ingest_paths
from digest.pipeline import ranking as pipeline_ranking
from digest.rank.analyzer import ANALYZER_VERSION, terms
from digest.rank.stats import count_terms
from digest.store import papers
from digest.store import terms as term_stats
from digest.store.db import make_engine, migrate, reading, transaction
from tests.conftest import SAMPLE_DUMPS, all_rows

Stats = tuple[tuple[int, int, int, str], dict[str, int]]


def stored_stats(engine: Engine) -> Stats:
    """(documents, title terms, abstract terms, analyzer) and df, as the store holds them."""
    rows = all_rows(engine)
    [(_, documents, title_terms, abstract_terms, analyzer)] = rows["corpus_stats"]
    df = {str(term): int(str(count)) for term, count in rows["term_stats"]}
    counts = (int(str(documents)), int(str(title_terms)), int(str(abstract_terms)), str(analyzer))
    return counts, df


def recounted(engine: Engine) -> Stats:
    """The same, counted from scratch from every stored paper with today's analyzer."""
    with reading(engine) as session:
        texts = [pair for batch in papers.iter_texts(session) for pair in batch]
    counts = count_terms(texts)
    return (
        (counts.documents, counts.title_terms, counts.abstract_terms, ANALYZER_VERSION),
        dict(counts.df),
    )


@pytest.fixture
def ingested(engine: Engine, settings: Settings, now: datetime) -> Engine:
    results = ingest_paths(engine, SAMPLE_DUMPS, settings=settings, now=now)
    assert [r.status for r in results] == ["ingested"] * len(SAMPLE_DUMPS)
    return engine


def test_ingesting_the_samples_keeps_stats_equal_to_a_recount(ingested: Engine) -> None:
    stats = stored_stats(ingested)
    assert stats == recounted(ingested)
    (documents, title_terms, abstract_terms, analyzer), df = stats
    with reading(ingested) as session:
        assert documents == papers.count_papers(session) > 300
    assert analyzer == ANALYZER_VERSION
    assert 0 < title_terms < abstract_terms
    assert df["xray"] >= 1  # joined forms and name pieces are counted like words
    assert df["sam"] > df.get("medsam", 0) >= 1
    assert not ensure_term_stats(ingested)  # fresh: nothing to do


def test_ingesting_in_another_order_gives_the_same_stats(
    ingested: Engine, settings: Settings, now: datetime
) -> None:
    other = make_engine(settings.database_url)
    migrate(other)
    try:
        for path in reversed(SAMPLE_DUMPS):
            ingest_paths(other, [path], settings=settings, now=now)
        ingest_paths(other, SAMPLE_DUMPS, settings=settings, now=now)  # all seen: no change
        assert stored_stats(other)[1] == stored_stats(ingested)[1]
        assert stored_stats(other) == recounted(other)
    finally:
        other.dispose()


def test_deleted_or_lagging_stats_are_rebuilt_identically(ingested: Engine) -> None:
    before = stored_stats(ingested)
    with transaction(ingested) as session:
        term_stats.reset(session)
    assert all_rows(ingested)["term_stats"] == []
    assert ensure_term_stats(ingested)
    assert stored_stats(ingested) == before
    assert not ensure_term_stats(ingested)
    # Counts that lag the papers (one paper short) are recounted, not patched.
    with transaction(ingested) as session:
        term_stats.add_counts(
            session, {"skin": 5}, documents=-1, title_terms=0, abstract_terms=0, analyzer="2"
        )
    assert stored_stats(ingested) != before
    assert ensure_term_stats(ingested)
    assert stored_stats(ingested) == before


def test_a_new_analyzer_version_rebuilds_the_stats(
    ingested: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    (counts, df) = stored_stats(ingested)
    monkeypatch.setattr(pipeline_ranking, "ANALYZER_VERSION", "next")
    assert ensure_term_stats(ingested)
    assert stored_stats(ingested) == ((*counts[:3], "next"), df)
    assert not ensure_term_stats(ingested)


def test_counting_uses_the_ranking_analyzer() -> None:
    counts = count_terms([("X-ray of MedSAM", "x ray, X ray; the x-ray"), ("", "")])
    assert counts.documents == 2
    assert counts.title_terms == len(terms("X-ray of MedSAM"))
    assert counts.abstract_terms == len(terms("x ray, X ray; the x-ray"))
    assert counts.df["xray"] == 1  # once per paper, however often
    assert counts.df["sam"] == 1

"""digest.pipeline.search_archive: the archive ranked for one query, filtered, cut, explained."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from digest.config import Settings, load_settings
from digest.errors import QueryError
from digest.pipeline import ingest_paths, search_archive
from digest.store import terms as term_stats
from digest.store.db import make_engine, migrate, transaction
from tests.conftest import NOW, SAMPLE_DUMPS

QUERY = "segmentation"


@pytest.fixture(scope="module")
def module_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("search")
    return load_settings(database_url="sqlite://", data_dir=folder / "var", inbox_dir=folder)


@pytest.fixture(scope="module")
def archive(module_settings: Settings) -> Iterator[Engine]:
    """The sample dumps, the first two seen two days before NOW, the others at NOW; shared by
    the tests of this module, which leave it as they found it."""
    engine = make_engine(module_settings.database_url)
    migrate(engine)
    ingest_paths(engine, SAMPLE_DUMPS[:2], settings=module_settings, now=NOW - timedelta(days=2))
    ingest_paths(engine, SAMPLE_DUMPS[2:], settings=module_settings, now=NOW)
    yield engine
    engine.dispose()


def test_results_are_ranked_cut_and_explained(archive: Engine, settings: Settings) -> None:
    results = search_archive(archive, QUERY, settings=settings, limit=15)
    assert len(results) == 15
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True)
    assert scores[-1] > 0
    for result in results:
        [reason] = result.explanation.reasons
        assert reason.query == QUERY
        assert [term.text for term in reason.terms] == [QUERY]
        html = result.explanation.title_html + result.explanation.snippet_html
        assert "<mark>" in html
    assert len({r.paper.id for r in results}) == 15
    top = search_archive(archive, QUERY, settings=settings, limit=3)
    assert [r.paper.id for r in top] == [r.paper.id for r in results[:3]]


def test_since_keeps_papers_first_seen_from_then(
    archive: Engine, settings: Settings, now: datetime
) -> None:
    everything = search_archive(archive, QUERY, settings=settings, limit=1000)
    recent = search_archive(
        archive, QUERY, settings=settings, since=now - timedelta(days=1), limit=1000
    )
    assert 0 < len(recent) < len(everything)
    assert {r.paper.id for r in recent} < {r.paper.id for r in everything}
    cutoff = (now - timedelta(days=1)).replace(tzinfo=None)
    for result in everything:
        seen = result.paper.first_seen_at.replace(tzinfo=None)
        assert (result.paper.id in {r.paper.id for r in recent}) == (seen >= cutoff)
    # Scores come from the archive's statistics, not from the papers searched.
    old_scores = {r.paper.id: r.score for r in everything}
    for result in recent:
        assert result.score == pytest.approx(old_scores[result.paper.id], rel=1e-6)


def test_a_bad_query_raises_query_error_with_its_position(
    archive: Engine, settings: Settings
) -> None:
    with pytest.raises(QueryError) as caught:
        search_archive(archive, 'skin "lesion', settings=settings)
    assert caught.value.position == 5
    with pytest.raises(QueryError, match="only excludes"):
        search_archive(archive, "-skin", settings=settings)


def test_no_match_or_a_zero_limit_gives_nothing(archive: Engine, settings: Settings) -> None:
    assert search_archive(archive, "quokka", settings=settings) == []
    assert search_archive(archive, QUERY, settings=settings, limit=0) == []


def test_an_empty_store_gives_nothing(engine: Engine, settings: Settings) -> None:
    assert search_archive(engine, QUERY, settings=settings) == []


def test_missing_stats_are_rebuilt_before_searching(archive: Engine, settings: Settings) -> None:
    before = [(r.paper.id, r.score) for r in search_archive(archive, "SAM", settings=settings)]
    assert before
    with transaction(archive) as session:
        term_stats.reset(session)
    after = [(r.paper.id, r.score) for r in search_archive(archive, "SAM", settings=settings)]
    assert [paper for paper, _ in after] == [paper for paper, _ in before]
    assert [score for _, score in after] == pytest.approx([score for _, score in before])

"""Term statistics follow papers whose abstract a later listing completes, on both databases."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from digest.config import Settings
from digest.pipeline import ingest_bytes
from digest.store import terms as term_stats
from digest.store.db import reading, transaction
from tests.factories import Entry, abstract, text_dump
from tests.rank.test_term_stats import recounted, stored_stats

FULL = abstract("melanoma screening") + " Dermatologists confirm the melanoma findings."


def test_a_completed_abstract_moves_its_term_counts(
    any_engine: Engine, settings: Settings, now: datetime
) -> None:
    cut = FULL[: FULL.index("Experiments")]
    other = Entry("Retinal vessel segmentation", abstract("retinal vessels"))
    first = text_dump(Entry("Skin lesion screening at scale", cut), other)
    second = text_dump(Entry("Skin lesion screening at scale", FULL), other, day="Mar 12")
    assert ingest_bytes(any_engine, first, source="a.txt", settings=settings, now=now).new == 2
    result = ingest_bytes(any_engine, second, source="b.txt", settings=settings, now=now)
    assert (result.new, result.known) == (0, 2)
    assert stored_stats(any_engine) == recounted(any_engine)
    assert stored_stats(any_engine)[1]["confirm"] == 1  # only in the completed abstract


def test_long_terms_sharing_their_first_120_characters_are_one_upsert_row(
    any_engine: Engine,
) -> None:
    long_a = "a" * 130
    long_b = "a" * 125
    with transaction(any_engine) as session:
        term_stats.add_counts(
            session,
            {long_a: 1, long_b: 2},
            documents=1,
            title_terms=2,
            abstract_terms=0,
            analyzer="test",
        )
    with reading(any_engine) as session:
        assert term_stats.document_frequencies(session, ["a" * 120]) == {"a" * 120: 3}

"""Ingestion against the store: one transaction per listing, sightings, identity, the schema."""

from __future__ import annotations

import codecs
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from digest.config import Settings
from digest.ingest.reconcile import reconcile
from digest.models import KnownPaper, ParsedPaper, Reconciliation
from digest.pipeline import find_paper, gather_stats, ingest_bytes, ingest_paths
from digest.pipeline import ingest as pipeline_ingest
from digest.store import listings, papers, sightings
from digest.store.db import is_initialized, make_engine, migrate
from digest.store.tables import Listing, Sighting
from tests.conftest import SAMPLE_DUMPS, all_rows
from tests.factories import Entry, abstract, api_item, json_dump, text_dump

SPARSE = Entry(
    "Sparse Attention for Long Documents", abstract("sparse attention"), 13, "Sep 8, 2025 3"
)
GRAPHS = Entry("Graph Networks for Chemistry", abstract("graph networks"))


def _sightings_of(engine: Engine, paper_id: int) -> list[tuple[str, int, int | None]]:
    """(listing source, position, upvotes) of every sighting of a paper, oldest first."""
    with Session(engine) as session:
        rows = session.exec(
            select(Listing.source, Sighting.position, Sighting.upvotes)
            .join(Listing, col(Listing.id) == col(Sighting.listing_id))
            .where(Sighting.paper_id == paper_id)
            .order_by(col(Sighting.id))
        )
        return [tuple(row) for row in rows]


# --- one transaction per listing -------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "name"),
    [
        (papers, "apply_updates"),
        (sightings, "add_sightings"),
        (listings, "set_counts"),
    ],
)
def test_failure_while_writing_a_listing_leaves_the_database_unchanged(
    any_engine: Engine,
    settings: Settings,
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
    module: object,
    name: str,
) -> None:
    ingest_paths(any_engine, [SAMPLE_DUMPS[0]], settings=settings, now=now)
    before = all_rows(any_engine)
    real = getattr(module, name)
    written: list[int] = []

    def fail_after_writing(session: Session, *args: object, **kwargs: object) -> None:
        real(session, *args, **kwargs)
        session.flush()
        written.append(papers.count_papers(session))
        raise RuntimeError("disk full")

    monkeypatch.setattr(module, name, fail_after_writing)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest_paths(any_engine, [SAMPLE_DUMPS[1]], settings=settings, now=now)

    assert written == [89 + 47]  # the new papers were in the database when it failed
    assert all_rows(any_engine) == before
    monkeypatch.undo()
    [result] = ingest_paths(any_engine, [SAMPLE_DUMPS[1]], settings=settings, now=now)
    assert (result.status, result.new, result.known) == ("ingested", 47, 25)


def test_same_content_again_is_skipped_even_with_crlf_and_a_bom(
    any_engine: Engine, settings: Settings, now: datetime
) -> None:
    data = SAMPLE_DUMPS[0].read_bytes()
    first = ingest_bytes(any_engine, data, source="monday.txt", settings=settings, now=now)
    before = all_rows(any_engine)
    windows = codecs.BOM_UTF8 + data.replace(b"\n", b"\r\n")

    again = ingest_bytes(
        any_engine, windows, source="copy.txt", settings=settings, now=now + timedelta(days=1)
    )

    assert (again.status, again.entries, again.new, again.known) == ("skipped", 89, 0, 89)
    assert again.warnings == (f"already ingested as listing {first.listing_id} (monday.txt)",)
    assert again.listing_id == first.listing_id
    assert all_rows(any_engine) == before


def test_race_on_the_same_content_is_a_skip(
    any_engine: Engine, settings: Settings, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = SAMPLE_DUMPS[0].read_bytes()
    first = ingest_bytes(any_engine, data, source="a.txt", settings=settings, now=now)
    before = all_rows(any_engine)
    real = listings.find_by_hash
    calls: list[str] = []

    def blind_once(session: Session, content_hash: str) -> Listing | None:
        # The first look misses, as if another process committed just after it.
        calls.append(content_hash)
        return None if len(calls) == 1 else real(session, content_hash)

    monkeypatch.setattr(listings, "find_by_hash", blind_once)
    again = ingest_bytes(any_engine, data, source="b.txt", settings=settings, now=now)

    assert again.status == "skipped"
    assert again.warnings == (f"ingested concurrently as listing {first.listing_id} (a.txt)",)
    assert len(calls) == 2
    assert all_rows(any_engine) == before


def test_conflict_with_stored_rows_is_a_rejection_not_a_skip(
    any_engine: Engine, settings: Settings, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_paths(any_engine, [SAMPLE_DUMPS[0]], settings=settings, now=now)
    before = all_rows(any_engine)

    def forgetful(parsed: list[ParsedPaper], known: list[KnownPaper]) -> Reconciliation:
        return reconcile(parsed, [])  # every entry "new": the known ones collide on their key

    monkeypatch.setattr(pipeline_ingest, "reconcile", forgetful)
    [result] = ingest_paths(any_engine, [SAMPLE_DUMPS[1]], settings=settings, now=now)

    assert result.status == "rejected"
    assert result.error is not None
    assert result.error.startswith("the database refused it: ")
    assert "papers.key" in result.error or "uq_papers_key" in result.error
    assert all_rows(any_engine) == before


# --- sightings and identity -------------------------------------------------------------------


def test_known_paper_gets_a_sighting_and_its_upvotes_follow_later_dumps(
    any_engine: Engine, settings: Settings, now: datetime
) -> None:
    def ingest(data: bytes, source: str) -> None:
        result = ingest_bytes(any_engine, data, source=source, settings=settings, now=now)
        assert result.status == "ingested"

    ingest(text_dump(SPARSE, day="Mar 10"), "day1.txt")
    ingest(text_dump(GRAPHS, replace(SPARSE, date="Sep 8, 2025 10"), day="Mar 11"), "day2.txt")
    # A dump without metadata says nothing about upvotes: the stored count stays.
    ingest(text_dump(GRAPHS, replace(SPARSE, authors=None, date=None), day="Mar 12"), "day3.txt")

    paper = find_paper(any_engine, "title:sparse attention for long documents")
    assert paper is not None
    assert (paper.upvotes, paper.author_count, paper.sightings) == (10, 13, 3)
    assert _sightings_of(any_engine, paper.id) == [
        ("day1.txt", 1, 3),
        ("day2.txt", 2, 10),
        ("day3.txt", 2, None),
    ]
    assert gather_stats(any_engine).papers == 2


def test_changed_case_and_punctuation_is_the_same_paper(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    before = Entry("MedMNIST v2 -- A large-scale benchmark", abstract("medical images"))
    after = Entry("MEDMNIST V2 – a Large Scale Benchmark!", abstract("medical images"))
    ingest_bytes(engine, text_dump(before), source="a.txt", settings=settings, now=now)
    result = ingest_bytes(engine, text_dump(after), source="b.txt", settings=settings, now=now)
    assert (result.new, result.known) == (0, 1)


def test_near_duplicate_title_with_the_same_abstract_is_the_same_paper(
    any_engine: Engine, settings: Settings, now: datetime
) -> None:
    typo = Entry("Atention Is All You Need", abstract("transformers"))
    fixed = Entry("Attention Is All You Need", abstract("transformers"))
    other = Entry("Attention Is All You Need Too", abstract("something else entirely"))
    ingest_bytes(any_engine, text_dump(typo), source="a.txt", settings=settings, now=now)

    result = ingest_bytes(
        any_engine, text_dump(fixed, other), source="b.txt", settings=settings, now=now
    )

    assert (result.new, result.known) == (1, 1)
    paper = find_paper(any_engine, "title:atention is all you need")
    assert paper is not None
    assert paper.sightings == 2
    assert gather_stats(any_engine).papers == 2


def test_two_entries_of_one_listing_matching_one_paper_record_one_sighting(
    any_engine: Engine, settings: Settings, now: datetime
) -> None:
    original = Entry("Attention Is All You Need", abstract("transformers"))
    typo = Entry("Attention Is All You Nead", abstract("transformers"))
    ingest_bytes(any_engine, text_dump(original), source="a.txt", settings=settings, now=now)

    result = ingest_bytes(
        any_engine, text_dump(original, typo), source="b.txt", settings=settings, now=now
    )

    assert (result.status, result.entries, result.new, result.known) == ("ingested", 1, 0, 1)
    assert result.warnings == ("entry 2: same paper as entry 1, counted once",)
    paper = find_paper(any_engine, "title:attention is all you need")
    assert paper is not None
    assert _sightings_of(any_engine, paper.id) == [("a.txt", 1, None), ("b.txt", 1, None)]


def test_paper_from_a_text_dump_keeps_its_key_and_gains_the_arxiv_id(
    any_engine: Engine, settings: Settings, now: datetime
) -> None:
    ingest_bytes(any_engine, text_dump(SPARSE), source="dump.txt", settings=settings, now=now)
    key = "title:sparse attention for long documents"

    api = json_dump(
        api_item("2411.01234", SPARSE.title, SPARSE.abstract, upvotes=42),
        api_item("2411.09999", "Quantum Error Correction at Scale", abstract("qubits")),
    )
    result = ingest_bytes(any_engine, api, source="api.json", settings=settings, now=now)

    assert (result.status, result.new, result.known) == ("ingested", 1, 1)
    by_arxiv = find_paper(any_engine, "2411.01234")
    assert by_arxiv is not None
    assert (by_arxiv.key, by_arxiv.arxiv_id, by_arxiv.upvotes) == (key, "2411.01234", 42)
    assert by_arxiv.authors == ("Ada Lovelace", "Alan Turing")
    assert find_paper(any_engine, key) == by_arxiv
    fresh = find_paper(any_engine, "2411.09999")
    assert fresh is not None
    assert fresh.key == "arxiv:2411.09999"

    # A later version with a new title is still found by its arXiv id.
    renamed = json_dump(api_item("2411.01234v2", "Sparse Attention, Revisited", SPARSE.abstract))
    again = ingest_bytes(any_engine, renamed, source="api2.json", settings=settings, now=now)
    assert (again.new, again.known) == (0, 1)
    assert gather_stats(any_engine).papers == 2


# --- the schema ---------------------------------------------------------------------------


def test_sqlite_databases_use_wal_and_enforce_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'digest.db'}")
    try:
        migrate(engine)
        # Two connections at once: the pragmas hold on every connection, not just the first.
        with engine.connect() as one, engine.connect() as two:
            for connection in (one, two):
                assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        with pytest.raises(IntegrityError, match="FOREIGN KEY"), engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO sightings (paper_id, listing_id, position, seen_at) "
                    "VALUES (999, 999, 1, '2026-11-24 06:00:00')"
                )
            )
    finally:
        engine.dispose()


def test_migrations_produce_the_models_schema(any_engine: Engine) -> None:
    assert is_initialized(any_engine)
    migrate(any_engine)  # a second run is a no-op
    with any_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []

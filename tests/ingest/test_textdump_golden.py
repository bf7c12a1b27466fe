"""The four sample dumps parse to their golden files, and their counts and URLs are exact."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from digest.ingest.identity import title_key
from digest.models import ParsedListing, ParsedPaper, SourceFormat
from tests.conftest import SAMPLE_DUMPS
from tests.ingest.conftest import GOLDEN, SAMPLE_COUNTS, TODAY, load_golden

URL = re.compile(r"https?://\S+")


def _golden_fields(paper: ParsedPaper) -> dict[str, Any]:
    """A parsed entry in the shape of a golden sample entry."""
    return {
        "position": paper.position,
        "title": paper.title,
        "abstract_start": paper.abstract[:80],
        "abstract_end": paper.abstract[-60:],
        "abstract_length": len(paper.abstract),
        "author_count": paper.author_count,
        "organization": paper.organization,
        "published": paper.published.isoformat() if paper.published else None,
        "upvotes": paper.upvotes,
    }


def test_every_sample_dump_has_a_golden_file() -> None:
    assert [path.name for path in SAMPLE_DUMPS] == sorted(SAMPLE_COUNTS)
    assert sorted(path.name for path in GOLDEN.glob("*.json")) == [
        name.removesuffix(".txt") + ".json" for name in sorted(SAMPLE_COUNTS)
    ]


@pytest.mark.parametrize("dump", SAMPLE_DUMPS, ids=lambda path: path.stem)
def test_sample_dump_matches_golden(dump: Path, sample_listings: dict[str, ParsedListing]) -> None:
    golden = load_golden(dump.stem + ".json")
    listing = sample_listings[dump.name]
    assert golden["source"] == dump.name
    assert date.fromisoformat(golden["today"]) == TODAY
    assert listing.format is SourceFormat(golden["format"])
    assert len(listing.papers) == golden["entry_count"]
    day = listing.listing_day.isoformat() if listing.listing_day else None
    assert day == golden["listing_day"]
    assert list(listing.warnings) == golden["warnings"]
    assert [paper.title for paper in listing.papers] == golden["titles"]
    assert [paper.position for paper in listing.papers] == list(range(1, len(listing.papers) + 1))
    for expected in golden["entries"]:
        paper = listing.papers[expected["position"] - 1]
        wanted = {key: value for key, value in expected.items() if key != "why"}
        assert _golden_fields(paper) == wanted, expected["why"]


def test_golden_samples_cover_the_unusual_metadata() -> None:
    entries = load_golden("001_aa1a6fe7fc2d5871.json")["entries"]
    assert any(e["organization"] == "General-Medical-AI General Medical AI" for e in entries)
    assert any(e["published"] == "2026-01-11" for e in entries)  # printed as `Jan 11`
    assert sum(e["upvotes"] is not None for e in entries) == 10
    assert any(e["author_count"] is None and e["published"] is None for e in entries)


def test_sample_entry_counts(sample_listings: dict[str, ParsedListing]) -> None:
    counts = {name: len(listing.papers) for name, listing in sample_listings.items()}
    assert counts == SAMPLE_COUNTS
    assert list(counts.values()) == [89, 72, 79, 144]


def test_samples_hold_313_distinct_titles(sample_listings: dict[str, ParsedListing]) -> None:
    seen: set[str] = set()
    new_per_dump = []
    for name in sorted(sample_listings):
        keys = {title_key(paper.title) for paper in sample_listings[name].papers}
        new_per_dump.append(len(keys - seen))
        seen |= keys
    assert new_per_dump == [89, 47, 55, 122]
    assert len(seen) == 313


@pytest.mark.parametrize("dump", SAMPLE_DUMPS, ids=lambda path: path.stem)
def test_urls_in_abstracts_are_kept_intact(
    dump: Path, sample_listings: dict[str, ParsedListing]
) -> None:
    raw = URL.findall(dump.read_text(encoding="utf-8"))
    parsed = URL.findall("\n".join(paper.abstract for paper in sample_listings[dump.name].papers))
    assert parsed == raw
    assert any(url.startswith("https://github.com/") for url in parsed)


def test_github_url_survives_in_its_own_abstract(
    sample_listings: dict[str, ParsedListing],
) -> None:
    papers = sample_listings["001_aa1a6fe7fc2d5871.txt"].papers
    assert "https://github.com/uni-medical/IMIS-Bench." in papers[0].abstract
    assert papers[0].abstract.endswith(
        "we release the IMed-361M and model at https://github.com/uni-medical/IMIS-Bench."
    )

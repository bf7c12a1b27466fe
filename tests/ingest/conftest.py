"""Helpers for the parser tests: a fixed `today`, one call from bytes to a listing, a dump builder.

The parsers are pure, so these tests need no database: bytes go through `decode_bytes` and
`parse_listing` exactly as the pipeline sends them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from digest.ingest.decode import decode_bytes
from digest.ingest.detect import parse_listing
from digest.models import ParsedListing, SourceFormat
from tests.conftest import DATA, SAMPLE_DUMPS

TODAY = date(2026, 11, 24)
GOLDEN = DATA / "golden"
SOURCES = DATA / "sources"
MAX_BYTES = 5_000_000
SAMPLE_COUNTS = {
    "000_9255d3542664e927.txt": 89,
    "001_aa1a6fe7fc2d5871.txt": 72,
    "002_d2f2d1897e65be76.txt": 79,
    "003_cad5a620c4dec56d.txt": 144,
}

# Deterministic and quick: the same examples on every run and in CI, no example database.
HYPOTHESIS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def parse_bytes(
    data: bytes, *, source: str = "dump.txt", fmt: SourceFormat | None = None
) -> ParsedListing:
    """Decode and parse a source the way the pipeline does, with `today` fixed."""
    decoded = decode_bytes(data, source=source, max_bytes=MAX_BYTES)
    return parse_listing(decoded, source=source, today=TODAY, fmt=fmt)


def parse_text(text: str, *, source: str = "dump.txt") -> ParsedListing:
    """Parse a text given as a string (encoded as UTF-8)."""
    return parse_bytes(text.encode("utf-8"), source=source)


def load_golden(name: str) -> dict[str, Any]:
    """The golden file written for a sample dump."""
    data: dict[str, Any] = json.loads((GOLDEN / name).read_text(encoding="utf-8"))
    return data


@dataclass(frozen=True)
class Entry:
    """One entry of a listing page; `who` is `• 3 authors` or an organisation line."""

    title: str
    abstract: str
    who: str | None = None
    date: str | None = None  # `Nov 19, 2024`, `Jan 11` or `Sep 8, 2025 3`


HEADER = (
    "new",
    "Get trending papers in your email inbox!",
    "Subscribe",
    "Daily Papers",
    "byAK and the research community",
)


def build_dump(
    entries: list[Entry], *, day: str | None = "Mar 11", blank_lines: bool = True
) -> str:
    """The text a browser gives for a listing page holding `entries`."""
    lines = [*HEADER, *([day] if day else [])]
    for entry in entries:
        lines += [entry.title, entry.abstract]
        if entry.who or entry.date:
            lines += [f"  {entry.who}" if entry.who else "", "·", entry.date or ""]
    kept = [line for line in lines if line]
    return ("\n\n" if blank_lines else "\n").join(kept) + "\n"


A1 = (
    "Interactive segmentation of CT volumes still needs many clicks per structure. We present "
    "a promptable model that turns one click into a full 3D mask and beats the baselines. It "
    "runs in under a second per volume on a single GPU."
)
A2 = (
    "Large language models are increasingly used to draft radiology reports. We measure how "
    "often they invent findings and propose a retrieval step that halves the error rate. "
    "Radiologists rated the corrected drafts as safe."
)
A3 = (
    "Diffusion models generate realistic images. We adapt them to low-dose CT and release the "
    "code at https://github.com/example-lab/ct-diffusion for others to build on. Readers "
    "preferred our images in a blinded study."
)
A4 = (
    "Whole-slide images are gigapixel-sized, so assistants usually see a few patches. We read "
    "a compressed slide embedding instead and answer questions about the whole slide. The "
    "assistant cites the regions it used."
)
THREE = [
    Entry("SegMed-3D: Promptable Segmentation with a Single Click", A1),
    Entry("Do Language Models Invent Findings in Radiology Reports?", A2),
    Entry("Low-Dose CT Denoising with Diffusion Models", A3),
]


@pytest.fixture(scope="session")
def sample_listings() -> dict[str, ParsedListing]:
    """The four sample dumps, parsed once for the whole session."""
    return {path.name: parse_bytes(path.read_bytes(), source=path.name) for path in SAMPLE_DUMPS}

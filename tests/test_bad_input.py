"""Bad input is refused with the file and the reason, and leaves the database exactly as it was."""

from __future__ import annotations

import random
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from digest.config import Settings
from digest.ingest.decode import DecodedText
from digest.models import ParsedListing
from digest.pipeline import gather_stats, ingest_bytes, ingest_paths
from digest.pipeline import ingest as pipeline_ingest
from tests.conftest import SAMPLE_DUMPS, all_rows

ROOT = Path(__file__).parent.parent
GOOD = SAMPLE_DUMPS[0]
GOOD_BYTES = GOOD.read_bytes()

BOILERPLATE = (
    b"new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nDaily Papers\n\n"
    b"byAK and the research community\n\nMar 11\n"
)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)) * 8
LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>\n'
    b"<rss><channel><item><title>&lol3;</title><description>x</description></item>"
    b"</channel></rss>"
)
XXE = (
    b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    b"<rss><channel><item><title>&xxe;</title><description>&xxe;</description></item>"
    b"</channel></rss>"
)
HTML = (
    b"<!DOCTYPE html>\n<html><head><title>Daily Papers</title></head>"
    b"<body><h1>Daily&nbsp;Papers</h1><p>Get trending papers</p></body></html>"
)
PROSE = b"""# frobnicate

A small tool that frobnicates widgets.

## Install

Run `pip install frobnicate`, then `frobnicate --help`.

## Usage

Call it with a widget: `frobnicate widget.toml`. It prints the result.

## License

MIT. See LICENSE.
"""

# (file name, content, what the reason must say). Each is refused on its own merits.
BAD_INPUTS = [
    pytest.param("empty.txt", b"", "empty file", id="empty"),
    pytest.param("blank.txt", b"\n  \r\n\t\n", "empty file", id="only-whitespace"),
    pytest.param("header.txt", BOILERPLATE, "no paper entries", id="only-boilerplate"),
    pytest.param("noise.bin", random.Random(7).randbytes(4096), "binary", id="random-bytes"),
    pytest.param("figure.png", PNG, "binary", id="png"),
    pytest.param(
        "nul-early.txt", GOOD_BYTES[:100] + b"\x00" + GOOD_BYTES[100:], "NUL", id="nul-early"
    ),
    pytest.param(
        "nul-late.txt", GOOD_BYTES[:9000] + b"\x00" + GOOD_BYTES[9000:], "NUL", id="nul-late"
    ),
    pytest.param(
        "controls.txt",
        b"A title\n" + bytes(range(1, 9)) * 40 + b"\nmore text",
        "control characters",
        id="control-characters",
    ),
    pytest.param("utf16.txt", b"\xff\xfeT\x00i\x00t", "utf-16", id="truncated-utf16"),
    pytest.param(
        "cut.json", b'[{"paper": {"id": "2411.00001", "title": "A', "not valid JSON", id="bad-json"
    ),
    pytest.param("error.json", b'{"error": "rate limited"}', "not a list", id="json-object"),
    pytest.param(
        "untitled.json", b'[{"paper": {"id": "2411.00001"}}]', "no paper", id="json-no-titles"
    ),
    pytest.param(
        "deep.json",
        b"[" * 100_000 + b"]" * 100_000,
        r"could not be parsed|too deep|nest",
        id="json-nested-too-deep",
    ),
    pytest.param("cut.xml", b"<rss><channel><item><title>A", "not well-formed XML", id="bad-xml"),
    pytest.param("laughs.xml", LAUGHS, "refused for safety", id="xml-billion-laughs"),
    pytest.param("xxe.xml", XXE, "refused for safety", id="xml-external-entity"),
    pytest.param("page.html", HTML, "XML|HTML", id="html-page"),
    pytest.param(
        "svg.xml", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "neither RSS nor Atom", id="svg"
    ),
    pytest.param(
        "ingest.py",
        (ROOT / "digest" / "pipeline" / "ingest.py").read_bytes(),
        "does not look like a listing",
        id="python-source",
    ),
    pytest.param("README.txt", PROSE, "no paper entries|does not look like", id="short-readme"),
]


def _ingest_good(engine: Engine, settings: Settings, now: datetime) -> None:
    """The database starts with one good dump in it, so that 'unchanged' means something."""
    [result] = ingest_paths(engine, [GOOD], settings=settings, now=now)
    assert (result.status, result.new) == ("ingested", 89)


@pytest.mark.parametrize(("name", "content", "reason"), BAD_INPUTS)
def test_bad_file_is_rejected_and_changes_nothing(
    any_engine: Engine,
    settings: Settings,
    now: datetime,
    tmp_path: Path,
    name: str,
    content: bytes,
    reason: str,
) -> None:
    _ingest_good(any_engine, settings, now)
    before = all_rows(any_engine)
    path = tmp_path / name
    path.write_bytes(content)

    [result] = ingest_paths(any_engine, [path], settings=settings, now=now)

    assert result.status == "rejected"
    assert result.file == str(path)
    assert result.error is not None
    assert re.search(reason, result.error), result.error
    assert (result.entries, result.new, result.known) == (0, 0, 0)
    assert all_rows(any_engine) == before


def test_project_readme_is_rejected(engine: Engine, settings: Settings, now: datetime) -> None:
    _ingest_good(engine, settings, now)
    before = all_rows(engine)
    [result] = ingest_paths(engine, [ROOT / "README.md"], settings=settings, now=now)
    assert result.status == "rejected", f"README.md ingested as {result.entries} papers"
    assert all_rows(engine) == before


def test_oversized_file_is_refused_before_reading(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    small = settings.model_copy(update={"max_dump_bytes": 1000})
    [result] = ingest_paths(engine, [GOOD], settings=small, now=now)
    assert result.status == "rejected"
    assert result.error == f"too large: {GOOD.stat().st_size} bytes, the limit is 1000"
    assert gather_stats(engine).listings == 0


def test_oversized_bytes_from_another_source_are_refused(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    small = settings.model_copy(update={"max_dump_bytes": 1000})
    result = ingest_bytes(engine, GOOD_BYTES, source="https://x/dump", settings=small, now=now)
    assert result.status == "rejected"
    assert result.error is not None
    assert result.error.startswith("too large")
    assert all_rows(engine) == {name: [] for name in all_rows(engine)}


def test_missing_file_is_rejected(
    engine: Engine, settings: Settings, now: datetime, tmp_path: Path
) -> None:
    [result] = ingest_paths(engine, [tmp_path / "absent.txt"], settings=settings, now=now)
    assert result.status == "rejected"
    assert result.error == "cannot read: No such file or directory"


def test_mixed_batch_ingests_the_good_and_rejects_only_the_bad(
    any_engine: Engine, settings: Settings, now: datetime, tmp_path: Path
) -> None:
    first, second = tmp_path / "1-good.txt", tmp_path / "3-good.txt"
    first.write_bytes(SAMPLE_DUMPS[0].read_bytes())
    (tmp_path / "2-bad.txt").write_bytes(PNG)
    second.write_bytes(SAMPLE_DUMPS[1].read_bytes())

    results = ingest_paths(any_engine, [tmp_path], settings=settings, now=now)

    assert [(Path(r.file).name, r.status) for r in results] == [
        ("1-good.txt", "ingested"),
        ("2-bad.txt", "rejected"),
        ("3-good.txt", "ingested"),
    ]
    assert [r.new for r in results] == [89, 0, 47]
    stats = gather_stats(any_engine)
    assert (stats.papers, stats.listings) == (136, 2)


def test_parser_crash_rejects_the_file_and_the_batch_goes_on(
    engine: Engine, settings: Settings, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Whatever a parser bug raises on hostile content, one file must not stop the others.
    real = pipeline_ingest.parse_listing

    def fragile(decoded: DecodedText, *, source: str, **kwargs: Any) -> ParsedListing:
        if source.endswith("001_aa1a6fe7fc2d5871.txt"):
            raise RecursionError("maximum recursion depth exceeded")
        return real(decoded, source=source, **kwargs)

    monkeypatch.setattr(pipeline_ingest, "parse_listing", fragile)
    results = ingest_paths(engine, SAMPLE_DUMPS[:3], settings=settings, now=now)

    assert [r.status for r in results] == ["ingested", "rejected", "ingested"]
    assert results[1].error == (
        "could not be parsed (RecursionError: maximum recursion depth exceeded)"
    )
    assert gather_stats(engine).listings == 2

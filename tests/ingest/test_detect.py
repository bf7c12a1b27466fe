"""Format detection picks the parser from the content; `fmt=` overrides it."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from digest.errors import InputError
from digest.ingest.decode import DecodedText
from digest.ingest.detect import detect_format, parse_listing
from digest.models import SourceFormat
from tests.conftest import SAMPLE_DUMPS
from tests.ingest.conftest import A1, SOURCES, THREE, TODAY, Entry, build_dump, parse_bytes


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        (SOURCES / "daily_papers.json", SourceFormat.JSON),
        (SOURCES / "arxiv_cs_cv.rss.xml", SourceFormat.FEED),
        (SOURCES / "arxiv_api.atom.xml", SourceFormat.FEED),
        (SOURCES / "arxiv_cs_cv.atom.xml", SourceFormat.FEED),
        *((dump, SourceFormat.TEXT) for dump in SAMPLE_DUMPS),
    ],
    ids=lambda value: value.name if isinstance(value, Path) else str(value),
)
def test_each_source_is_detected_and_parsed_in_its_format(path: Path, fmt: SourceFormat) -> None:
    assert detect_format(path.read_text(encoding="utf-8")) is fmt
    listing = parse_bytes(path.read_bytes(), source=path.name)
    assert listing.format is fmt
    assert listing.papers


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        ("  \n[{", SourceFormat.JSON),
        ('{"papers": []}', SourceFormat.JSON),
        ("<?xml version='1.0'?>", SourceFormat.FEED),
        (
            '<rss xmlns:dc="http://purl.org/dc/elements/1.1/"\n     version="2.0">',
            SourceFormat.FEED,
        ),
        ("<feed xmlns='http://www.w3.org/2005/Atom'>", SourceFormat.FEED),
        ("<rdf:RDF\n xmlns:rdf='x'>", SourceFormat.FEED),
        ("<!-- generated -->\n<rss>", SourceFormat.FEED),
        ("<!DOCTYPE html>\n<html>", SourceFormat.FEED),
        ("<opml version='2.0'>", SourceFormat.FEED),
        ("<script>alert(1)</script> Title\n\nAbstract.", SourceFormat.TEXT),
        ("<b>Bold</b> Claims About Segmentation\nAbstract.", SourceFormat.TEXT),
        ("new\n\nGet trending papers", SourceFormat.TEXT),
        ("", SourceFormat.TEXT),
    ],
)
def test_detect_format_from_the_first_characters(head: str, fmt: SourceFormat) -> None:
    assert detect_format(head) is fmt


def _decoded(text: str, *, warnings: tuple[str, ...] = ()) -> DecodedText:
    return DecodedText(text=text, encoding="utf-8", warnings=warnings)


def test_fmt_text_reads_a_dump_that_looks_like_json() -> None:
    text = build_dump([Entry("[Re] Reproducing Medical Segmentation Baselines", A1), *THREE])
    text = text.split("Mar 11\n\n", 1)[1]  # copied without the header: it starts with `[`
    assert detect_format(text) is SourceFormat.JSON
    with pytest.raises(InputError, match="not valid JSON"):
        parse_listing(_decoded(text), source="d.txt", today=TODAY)
    listing = parse_listing(_decoded(text), source="d.txt", today=TODAY, fmt=SourceFormat.TEXT)
    assert listing.papers[0].title == "[Re] Reproducing Medical Segmentation Baselines"
    assert len(listing.papers) == 4


@pytest.mark.parametrize(
    ("path", "fmt", "reason"),
    [
        (SAMPLE_DUMPS[0], SourceFormat.JSON, "not valid JSON: Expecting value at line 1 column 1"),
        (SAMPLE_DUMPS[0], SourceFormat.FEED, "not XML: a feed must start with '<'"),
        (SOURCES / "daily_papers.json", SourceFormat.FEED, "not XML: a feed must start with '<'"),
        (SOURCES / "arxiv_cs_cv.rss.xml", SourceFormat.JSON, "not valid JSON"),
        (SOURCES / "daily_papers.json", SourceFormat.TEXT, ""),
    ],
    ids=["dump-as-json", "dump-as-feed", "json-as-feed", "rss-as-json", "json-as-text"],
)
def test_fmt_overrides_detection(path: Path, fmt: SourceFormat, reason: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_bytes(path.read_bytes(), source=path.name, fmt=fmt)
    assert caught.value.source == path.name
    assert caught.value.reason.startswith(reason)


def test_html_page_forced_as_text_is_named_as_html() -> None:
    page = "<!DOCTYPE html>\n<html><body><h1>Daily Papers</h1></body></html>\n"
    with pytest.raises(InputError) as caught:
        parse_listing(_decoded(page), source="p.html", today=TODAY, fmt=SourceFormat.TEXT)
    assert caught.value.reason.startswith("an HTML page, not a listing")


def test_decoding_warnings_come_first() -> None:
    text = build_dump([*THREE, THREE[0]])
    listing = parse_listing(_decoded(text, warnings=("decoded as X",)), source="d", today=TODAY)
    assert listing.warnings[0] == "decoded as X"
    assert "duplicate of entry 1" in listing.warnings[1]


def test_utf_16_json_is_detected_after_decoding() -> None:
    data = codecs.BOM_UTF16_LE + (SOURCES / "daily_papers.json").read_text("utf-8").encode(
        "utf-16-le"
    )
    assert parse_bytes(data, source="api.json").format is SourceFormat.JSON


def test_text_of_short_pairs_is_refused_as_not_a_listing() -> None:
    lines = [line for n in range(6) for line in (f"Heading {n}", f"A short note number {n}.")]
    with pytest.raises(InputError) as caught:
        parse_bytes("\n".join(lines).encode(), source="notes.txt")
    assert caught.value.source == "notes.txt"
    assert caught.value.reason.startswith("does not look like a listing dump: only 0 of 6")

"""arXiv RSS and Atom listings and the arXiv API: ids, authors, dates; unsafe XML is refused."""

from __future__ import annotations

import codecs
from dataclasses import replace
from datetime import date

import pytest

from digest.errors import InputError
from digest.ingest.feedlisting import parse_feed_listing
from digest.models import ParsedPaper, SourceFormat
from tests.ingest.conftest import SOURCES, parse_bytes

SPARSE_VOXEL = ParsedPaper(
    title="Sparse Voxel Priors for Few-Shot Organ Segmentation",
    abstract=(
        "Few-shot organ segmentation fails when the support volumes are scanned differently "
        "from the query. We learn a sparse voxel prior over organ shapes and fit it to the query "
        "at test time, which keeps masks anatomically plausible. Our code is at "
        "https://github.com/example-lab/sparse-voxel-prior."
    ),
    position=1,
    arxiv_id="2411.01234",
    authors=("Ana Souza", "Bei Wang", "Chidi Eze"),
    author_count=3,
    published=date(2024, 11, 19),
)
WEAK_LABELS = ParsedPaper(
    title="Learning to Grade Diabetic Retinopathy from Weak Labels",
    abstract=(
        "Image-level grades are cheap while lesion masks are not. We train a grader from grades "
        "alone and recover lesion maps as a by-product."
    ),
    position=3,
    arxiv_id="2411.00777",
    authors=("Farid Karimi",),
    author_count=1,
    published=date(2024, 11, 19),
)
RSS_EXPECTED = (
    SPARSE_VOXEL,
    ParsedPaper(
        title="Calibrated Uncertainty for Lesion Detection under Scanner Shift",
        abstract=(
            "Detectors trained on one scanner are overconfident on another. We rescale the "
            "detection scores with a temperature $T$ chosen per scanner so that $0<T<1$ sharpens "
            "and $T>1$ softens them, and show that calibration error drops by half on three "
            "hospitals' data."
        ),
        position=2,
        arxiv_id="2411.01300",
        authors=("Élodie Marchand", "José Álvarez-Ruiz"),
        author_count=2,
        published=date(2024, 11, 19),
    ),
    WEAK_LABELS,
    ParsedPaper(
        title="A Revised Benchmark for Surgical Phase Recognition",
        abstract=(
            "We relabel three surgical phase datasets with a shared protocol. The new labels "
            "change the ranking of eight published methods."
        ),
        position=4,
        arxiv_id="2403.05678",
        authors=("Greta Holm", "Ivan Petrov", "Kenji Sato", "Laura Mendes"),
        author_count=4,
        published=date(2024, 11, 19),
    ),
)
API_EXPECTED = (
    ParsedPaper(
        title=(
            "Self-Supervised Denoising of Low-Dose CT with Noise2Noise Pairs from Adjacent Slices"
        ),
        abstract=(
            "Low-dose CT trades image quality for patient safety. We build noisy training pairs "
            "from adjacent slices of the same scan, so no clean reference is needed, and show "
            "that a small U-Net trained this way matches supervised denoisers on two public "
            "benchmarks."
        ),
        position=1,
        arxiv_id="2411.04321",
        authors=("Nadia Rahman", "Wei Zhang"),
        author_count=2,
        published=date(2024, 11, 6),
    ),
    ParsedPaper(
        title="Ultrasound Report Generation with Anatomy-Aware Retrieval",
        abstract=(
            "Ultrasound reports describe a handful of standard views. We retrieve reports of the "
            "nearest anatomy from a database and edit them with a small language model; "
            "radiologists preferred the result in 64% of 200 blinded comparisons."
        ),
        position=2,
        arxiv_id="2411.03210",
        authors=("Kofi Mensah", "Ingrid Larsen", "Rafael Gómez"),
        author_count=3,
        published=date(2024, 11, 5),
    ),
    ParsedPaper(
        title="Image Reconstruction in Positron Emission Tomography: an Old-Style Identifier",
        abstract=(
            "An entry with an identifier from before 2007, kept to check that old-style "
            "identifiers (archive/number) survive normalisation."
        ),
        position=3,
        arxiv_id="physics/0601001",
        authors=("Hans Becker",),
        author_count=1,
        published=date(2006, 1, 2),
    ),
)


def test_arxiv_rss_listing() -> None:
    listing = parse_bytes((SOURCES / "arxiv_cs_cv.rss.xml").read_bytes(), source="cs.CV.rss")
    assert listing.format is SourceFormat.FEED
    assert listing.papers == RSS_EXPECTED
    assert listing.warnings == ("entry 4: duplicate of an earlier entry, skipped",)


def test_arxiv_atom_api_response() -> None:
    listing = parse_bytes((SOURCES / "arxiv_api.atom.xml").read_bytes(), source="api.atom")
    assert listing.format is SourceFormat.FEED
    assert listing.papers == API_EXPECTED
    assert listing.warnings == ()


def test_arxiv_atom_listing_strips_the_announcement_and_reads_dc_creator() -> None:
    listing = parse_bytes((SOURCES / "arxiv_cs_cv.atom.xml").read_bytes(), source="cs.CV.atom")
    assert listing.papers == (SPARSE_VOXEL, replace(WEAK_LABELS, position=2))
    assert listing.warnings == ()


def _rss(items: str, *, declaration: str = '<?xml version="1.0" encoding="UTF-8"?>') -> str:
    return (
        f"{declaration}\n"
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>t</title>{items}</channel></rss>"
    )


ITEM = (
    "<item><title>Caf\u00e9 Models for Na\u00efve Readers</title>"
    "<link>https://arxiv.org/abs/2411.05555</link>"
    "<description>arXiv:2411.05555v1 Announce Type: new \nAbstract: R\u00e9sum\u00e9 of "
    "the work.</description><guid isPermaLink='false'>oai:arXiv.org:2411.05555v1</guid>"
    "<dc:creator>Ren\u00e9e Dupont, Bj\u00f6rn Berg</dc:creator></item>"
)


@pytest.mark.parametrize(
    ("data", "warned"),
    [
        (_rss(ITEM).encode("utf-8"), False),
        (
            _rss(ITEM, declaration='<?xml version="1.0" encoding="ISO-8859-1"?>').encode("latin-1"),
            True,
        ),
        (
            codecs.BOM_UTF16_LE
            + _rss(ITEM, declaration='<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16-le"),
            False,
        ),
    ],
    ids=["utf-8", "declared-latin-1", "utf-16"],
)
def test_declared_encodings_do_not_garble_accents(data: bytes, warned: bool) -> None:
    listing = parse_bytes(data, source="feed.xml")
    (paper,) = listing.papers
    assert paper.title == "Café Models for Naïve Readers"
    assert paper.abstract == "Résumé of the work."
    assert paper.authors == ("Renée Dupont", "Björn Berg")
    assert paper.arxiv_id == "2411.05555"
    assert bool(listing.warnings) is warned


def test_html_in_descriptions_is_stripped_but_math_is_kept() -> None:
    item = (
        "<item><title>T</title><description>&lt;p&gt;For $a&lt;b$ and $c&gt;d$, see "
        '&lt;a href="https://example.org/x"&gt;the page&lt;/a&gt;.&lt;br/&gt;Done.&lt;/p&gt;'
        "</description><link>https://example.org/paper</link></item>"
    )
    (paper,) = parse_feed_listing(_rss(item), source="f").papers
    assert paper.abstract == "For $a<b$ and $c>d$, see the page . Done."
    assert paper.arxiv_id is None


def test_rss_without_title_or_abstract_is_skipped_with_a_warning() -> None:
    items = "<item><title>Only a title</title></item>" + ITEM
    listing = parse_feed_listing(_rss(items), source="f")
    assert [paper.position for paper in listing.papers] == [1]
    assert listing.warnings == ("entry 1: no title or abstract, skipped",)


def test_rss_1_0_rdf_items() -> None:
    text = (
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        '<item rdf:about="http://arxiv.org/abs/2411.06666"><title>RDF Title</title>'
        "<link>http://arxiv.org/abs/2411.06666</link><description>An abstract.</description>"
        "<dc:creator>A One, B Two</dc:creator><dc:date>2024-11-19</dc:date></item></rdf:RDF>"
    )
    (paper,) = parse_feed_listing(text, source="f").papers
    assert (paper.arxiv_id, paper.authors, paper.published) == (
        "2411.06666",
        ("A One", "B Two"),
        date(2024, 11, 19),
    )


def test_arxiv_api_error_is_refused_not_read_as_a_paper() -> None:
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        "<entry><id>http://arxiv.org/api/errors#incorrect_id_format_for_1234.12345</id>"
        "<title>Error</title><summary>incorrect id format for 1234.12345</summary>"
        "<author><name>arXiv api core</name></author></entry></feed>"
    )
    with pytest.raises(InputError) as caught:
        parse_bytes(text.encode("utf-8"), source="api.atom")
    assert caught.value.reason == (
        "the arXiv API returned an error: incorrect id format for 1234.12345"
    )


LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>\n'
    "<rss><channel><item><title>&lol3;</title><description>x</description></item>"
    "</channel></rss>"
)
EXTERNAL = (
    '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    "<rss><channel><item><title>&xxe;</title><description>&xxe;</description></item>"
    "</channel></rss>"
)
PARAMETER = (
    '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY % pe SYSTEM "http://127.0.0.1:9/x.dtd"> '
    "%pe;]>\n<rss><channel></channel></rss>"
)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (_rss(ITEM)[:-40], "not well-formed XML: "),
        ('<?xml version="1.0"?>\n<rss><channel><item>', "not well-formed XML: no element found"),
        ("<opml version='2.0'><body/></opml>", "XML root <opml> is neither RSS nor Atom"),
        ("<html><body><p>Daily Papers</p></body></html>", "XML root <html> is neither RSS nor"),
        (LAUGHS, "XML refused for safety: "),
        (EXTERNAL, "XML refused for safety: "),
        (PARAMETER, "XML refused for safety: "),
        (_rss(""), "no paper entries found in this feed source"),
    ],
    ids=[
        "truncated",
        "unclosed",
        "wrong-root",
        "html",
        "billion-laughs",
        "external-entity",
        "parameter-entity",
        "no-items",
    ],
)
def test_bad_xml_is_refused_with_source_and_reason(text: str, reason: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_bytes(text.encode("utf-8"), source="inbox/feed.xml")
    assert caught.value.source == "inbox/feed.xml"
    assert caught.value.reason.startswith(reason)
    assert "root:" not in str(caught.value)  # nothing of /etc/passwd leaks into the message

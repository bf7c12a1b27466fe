"""What browsers, platforms and truncation do to a dump: each variant parses, or warns."""

from __future__ import annotations

import codecs
from collections.abc import Callable
from datetime import date

import pytest

from digest.errors import InputError
from digest.ingest.textdump import parse_text_dump
from digest.models import ParsedListing
from tests.ingest.conftest import (
    A1,
    A2,
    A3,
    A4,
    THREE,
    TODAY,
    Entry,
    build_dump,
    parse_bytes,
    parse_text,
)

ORG = "General-Medical-AI General Medical AI"
WITH_METADATA = [
    Entry(
        "SegMed-3D: Promptable Segmentation with a Single Click",
        A1,
        "• 13 authors",
        "Nov 19, 2024 2",
    ),
    Entry("Unimedvl: Unifying Medical Understanding and Generation", A2, ORG, "Oct 17, 2025 3"),
    Entry("CarePilot: Multi-Agent Task Automation in Healthcare", A3),
    Entry("MEDVISTAGYM: Thinking with Medical Images via Tools", A4, "• 9 authors", "Jan 11"),
]
BASE = build_dump(WITH_METADATA, day="Apr 21")


def _titles(listing: ParsedListing) -> list[str]:
    return [paper.title for paper in listing.papers]


def _pad_lines(text: str) -> str:
    """Tabs and non-breaking spaces around every line and between some words."""
    lines = text.split("\n")
    padded = [f"\t\u00a0{line} \u00a0\t" if line else "\u00a0\t " for line in lines]
    return "\n".join(padded).replace("Segmentation with", "Segmentation\u00a0with\t")


TRANSPORTS: dict[str, Callable[[str], bytes]] = {
    "lf": lambda text: text.encode("utf-8"),
    "crlf": lambda text: text.replace("\n", "\r\n").encode("utf-8"),
    "cr-only": lambda text: text.replace("\n", "\r").encode("utf-8"),
    "utf-8-bom": lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
    "utf-8-bom-crlf": lambda text: codecs.BOM_UTF8 + text.replace("\n", "\r\n").encode("utf-8"),
    "utf-16-le-bom": lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
    "utf-16-be-bom": lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
    "utf-16-le-crlf": lambda text: (
        codecs.BOM_UTF16_LE + text.replace("\n", "\r\n").encode("utf-16-le")
    ),
    "utf-32-bom": lambda text: text.encode("utf-32"),
    "nbsp-and-tabs": lambda text: _pad_lines(text).encode("utf-8"),
    "no-blank-lines": lambda text: text.replace("\n\n", "\n").encode("utf-8"),
    "many-blank-lines": lambda text: text.replace("\n\n", "\n \n\t\n\n").encode("utf-8"),
    "unicode-line-separators": lambda text: text.replace("\n", "\u2028").encode("utf-8"),
    "paragraph-separators": lambda text: text.replace("\n\n", "\u2029").encode("utf-8"),
    "next-line-controls": lambda text: text.replace("\n", "\u0085").encode("utf-8"),
    "zero-width-characters": lambda text: text.replace("Medical", "Med\u200bical\u00ad").encode(
        "utf-8"
    ),
}


@pytest.mark.parametrize("transport", TRANSPORTS.values(), ids=TRANSPORTS.keys())
def test_transport_variants_parse_like_the_original(transport: Callable[[str], bytes]) -> None:
    expected = parse_text(BASE)
    listing = parse_bytes(transport(BASE))
    assert listing.papers == expected.papers
    assert listing.listing_day == expected.listing_day == date(2026, 4, 21)
    assert listing.warnings == ()


def test_the_base_of_the_variants_holds_all_the_metadata() -> None:
    papers = parse_text(BASE).papers
    assert [(p.author_count, p.organization, p.published, p.upvotes) for p in papers] == [
        (13, None, date(2024, 11, 19), 2),
        (None, "General-Medical-AI General Medical AI", date(2025, 10, 17), 3),
        (None, None, None, None),
        (9, None, date(2026, 1, 11), None),  # `Jan 11`: the latest Jan 11 before Apr 21, 2026
    ]
    assert [p.abstract for p in papers] == [A1, A2, A3, A4]


def test_windows_1252_is_decoded_with_a_warning() -> None:
    text = build_dump([Entry("Café au lait: Naïve Rényi Entropies for Façade Parsing", A1), *THREE])
    listing = parse_bytes(text.encode("cp1252"))
    assert _titles(listing)[0] == "Café au lait: Naïve Rényi Entropies for Façade Parsing"
    assert len(listing.papers) == 4
    assert len(listing.warnings) == 1
    assert "Windows-1252" in listing.warnings[0]
    assert "not valid UTF-8" in listing.warnings[0]


def test_windows_1252_smart_quotes_and_dashes() -> None:
    title = "“Quoted” Models – and Their Limits…"
    listing = parse_bytes(build_dump([Entry(title, A1), *THREE]).encode("cp1252"))
    assert _titles(listing)[0] == title


def _glued(entries: list[Entry], *, newline: str = "\n") -> str:
    """The shape of the dump with no blank lines, where Subscribe sticks to the first title."""
    lines = [
        "Get trending papers in your email inbox once a day!",
        "Get trending papers in your email inbox!",
    ]
    for entry in entries:
        lines += [entry.title, entry.abstract]
    lines[2] = "Subscribe" + lines[2]
    return newline.join(lines) + newline


@pytest.mark.parametrize(
    "first_title",
    [
        "DermaCon-IN: A Multi-concept Annotated Dermatological Image Dataset",
        "nnU-Net Revisited: A Call for Rigorous Validation in 3D Segmentation",
        "3D Gaussian Splatting for Endoscopic Scenes",
        "mRNA Vaccine Design with Language Models",
    ],
)
def test_subscribe_glued_to_the_first_title(first_title: str) -> None:
    listing = parse_text(_glued([Entry(first_title, A4), *THREE]))
    assert _titles(listing) == [first_title] + [entry.title for entry in THREE]
    assert listing.listing_day is None
    assert listing.warnings == ()


def test_a_title_starting_with_subscriber_is_not_cut() -> None:
    title = "Subscriber Churn Prediction from Hospital Portal Logs"
    listing = parse_text(build_dump([Entry(title, A4), *THREE], day=None))
    assert _titles(listing)[0] == title


def test_duplicated_entry_is_skipped_with_a_warning() -> None:
    entries = [*THREE[:2], THREE[1], THREE[2]]
    listing = parse_text(build_dump(entries))
    assert _titles(listing) == [entry.title for entry in THREE]
    assert [paper.position for paper in listing.papers] == [1, 2, 3]
    (warning,) = listing.warnings
    assert "duplicate of entry 2" in warning


def test_duplicate_with_changed_case_and_dashes_is_counted_once() -> None:
    again = Entry(THREE[0].title.upper().replace("-", " – "), A1)
    listing = parse_text(build_dump([*THREE, again]))
    assert len(listing.papers) == 3
    assert "duplicate of entry 1" in listing.warnings[0]


def test_entry_cut_off_after_its_title() -> None:
    listing = parse_text(build_dump(THREE) + "\nA Title Whose Abstract Never Came\n")
    assert _titles(listing) == [entry.title for entry in THREE]
    (warning,) = listing.warnings
    assert "cut off" in warning
    assert "A Title Whose Abstract Never Came" in warning


@pytest.mark.parametrize(
    "tail",
    [
        "  • 9 authors\n",  # cut after the authors line
        "  • 9 authors\n·\n",  # cut after the separator
        "",  # cut before any metadata
    ],
    ids=["after-authors", "after-separator", "no-metadata"],
)
def test_entry_cut_off_in_its_metadata(tail: str) -> None:
    text = build_dump(WITH_METADATA[:2], day="Apr 21") + "\n" + THREE[2].title + "\n" + A3 + "\n"
    listing = parse_text(text + tail)
    assert _titles(listing) == [WITH_METADATA[0].title, WITH_METADATA[1].title, THREE[2].title]
    assert listing.papers[2].abstract == A3
    assert listing.papers[2].published is None
    (warning,) = listing.warnings
    assert "last entry has no date line" in warning


def test_abstract_cut_off_mid_sentence_is_kept() -> None:
    cut = A3[:71]
    assert cut.endswith("low-dose C")
    listing = parse_text(build_dump([*THREE[:2], Entry(THREE[2].title, cut)]))
    assert listing.papers[2].abstract == cut
    assert len(listing.papers) == 3


def test_missing_abstract_in_the_middle() -> None:
    text = build_dump(THREE).replace("\n\n" + A2, "")
    listing = parse_text(text)
    assert _titles(listing) == [THREE[0].title, THREE[2].title]
    assert listing.papers[1].abstract == A3
    (warning,) = listing.warnings
    assert "no abstract" in warning
    assert THREE[1].title in warning


@pytest.mark.parametrize(
    "paragraph",
    [
        "We also report a user study with twelve radiologists. They preferred our drafts.",
        "Code is available at https://github.com/example-lab/report-check.",
        "A" * 20 + " very long second paragraph without any full stop " + "x" * 300,
    ],
    ids=["two-sentences", "one-sentence-with-url", "long"],
)
def test_abstract_split_over_two_paragraphs(paragraph: str) -> None:
    text = build_dump(THREE).replace(A2, A2 + "\n\n" + paragraph)
    listing = parse_text(text)
    assert _titles(listing) == [entry.title for entry in THREE]
    assert listing.papers[1].abstract == A2 + "\n\n" + paragraph
    assert listing.warnings == ()


def test_split_abstract_before_metadata() -> None:
    paragraph = "Code is available at https://github.com/example-lab/segmed."
    text = BASE.replace(A1, A1 + "\n\n" + paragraph)
    listing = parse_text(text)
    assert listing.papers[0].abstract == A1 + "\n\n" + paragraph
    assert listing.papers[0].author_count == 13
    assert listing.warnings == ()


@pytest.mark.parametrize(
    "title",
    [
        "Is Attention All You Need? Yes! A Study of Medical Transformers",
        "Your other Left! Vision-Language Models Fail to Identify Relative Positions",
        "Generalizability vs. Robustness: Adversarial Examples for Medical Imaging",
        "Segment Anything? Not Yet! Limits of SAM on Ultrasound",
    ],
)
@pytest.mark.parametrize("metadata", [False, True], ids=["plain", "metadata"])
def test_titles_with_question_and_exclamation_marks(title: str, metadata: bool) -> None:
    entries = WITH_METADATA if metadata else THREE
    changed = [entries[0], Entry(title, entries[1].abstract, entries[1].who, entries[1].date)]
    listing = parse_text(build_dump([*changed, *entries[2:]]))
    assert _titles(listing)[1] == title
    assert len(listing.papers) == len(entries)
    assert listing.papers[0].abstract == entries[0].abstract
    assert listing.warnings == ()


@pytest.mark.parametrize("first", [False, True], ids=["middle", "first-line"])
def test_html_looking_title_is_kept_verbatim(first: bool) -> None:
    title = "<script>alert(1)</script> Title & <b>Bold</b> Claims"
    entries = [Entry(title, A4), *THREE] if first else [THREE[0], Entry(title, A4), *THREE[1:]]
    text = build_dump(entries)
    if first:  # a dump copied without the page's header starts with the title itself
        text = text.split("Mar 11\n\n", 1)[1]
        assert text.startswith(title)
    listing = parse_text(text)
    assert _titles(listing) == [entry.title for entry in entries]
    assert listing.papers[0 if first else 1].abstract == A4


def test_text_that_is_no_listing_is_refused() -> None:
    prose = ("This is a README. It has sentences. " * 20 + "\n\n") * 5
    with pytest.raises(InputError) as caught:
        parse_text(prose, source="README.txt")
    assert caught.value.source == "README.txt"
    assert "no paper entries" in caught.value.reason or "not look like" in caught.value.reason


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("Mar 11", date(2026, 3, 11)),
        ("Nov 24", date(2026, 11, 24)),  # today itself
        ("Nov 25", date(2025, 11, 25)),  # tomorrow's date must be last year's
        ("Dec 31", date(2025, 12, 31)),
        ("Feb 29", date(2024, 2, 29)),  # 2026 and 2025 have no Feb 29
        ("Sept 8", date(2026, 9, 8)),
        ("MAR 11", date(2026, 3, 11)),
    ],
)
def test_listing_day_is_the_latest_such_day_not_after_today(day: str, expected: date) -> None:
    listing = parse_text(build_dump(THREE, day=day))
    assert listing.listing_day == expected
    assert len(listing.papers) == 3


def test_impossible_listing_day_gives_none_not_a_crash() -> None:
    listing = parse_text(build_dump(THREE, day="Feb 30"))
    assert listing.listing_day is None
    assert len(listing.papers) == 3


def test_dates_without_a_year_resolve_against_the_listing_day() -> None:
    entries = [Entry(THREE[0].title, A1, "• 3 authors", "Dec 30"), *THREE[1:]]
    listing = parse_text(build_dump(entries, day="Jan 2"))
    assert listing.listing_day == date(2026, 1, 2)
    assert listing.papers[0].published == date(2025, 12, 30)


def test_date_without_a_year_and_no_listing_day_uses_today() -> None:
    entries = [Entry(THREE[0].title, A1, "• 3 authors", "Feb 29"), *THREE[1:]]
    listing = parse_text_dump(build_dump(entries, day=None), today=TODAY)
    assert listing.listing_day is None
    assert listing.papers[0].published == date(2024, 2, 29)


@pytest.mark.parametrize("line", ["Auguſt 5", "Aprıl 3, 2024 4", "\u212aan 2"])
def test_look_alike_month_names_do_not_crash(line: str) -> None:
    entries = [Entry(THREE[0].title, A1, "• 3 authors", line), *THREE[1:]]
    listing = parse_text_dump(build_dump(entries, day=line), today=TODAY)
    assert listing.listing_day is None
    assert listing.papers[0].published is None
    assert [paper.title for paper in listing.papers][1:] == [entry.title for entry in THREE[1:]]

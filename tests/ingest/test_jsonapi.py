"""The daily papers JSON API: items become ParsedPapers; bad JSON is refused with its reason."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.errors import InputError
from digest.ingest.jsonapi import parse_json_listing
from digest.models import ParsedPaper, SourceFormat
from tests.ingest.conftest import HYPOTHESIS, SOURCES, parse_bytes

DAILY = SOURCES / "daily_papers.json"

EXPECTED = (
    ParsedPaper(
        title="SegMed-3D: Promptable Segmentation of Volumetric Scans with a Single Click",
        abstract=(
            "Interactive segmentation of CT and MRI volumes still needs many clicks per "
            "structure. We present SegMed-3D, a promptable model that turns one click into a "
            "full 3D mask. Trained on 41 public datasets, it improves Dice by 6.2 points over "
            "the strongest baseline. Code and weights: https://github.com/example-lab/segmed-3d."
        ),
        position=1,
        arxiv_id="2411.12345",
        authors=("Mei Lin", "Tomás Ortega", "Priya Raman"),
        author_count=3,
        published=date(2024, 11, 18),
        upvotes=12,
    ),
    ParsedPaper(
        title="Do Vision-Language Models Read Chest X-rays -- or Just the Reports?",
        abstract=(
            "We probe five open vision-language models with chest radiographs whose reports "
            "were swapped between patients. All five follow the text rather than the image in "
            "most cases, even when the image shows the opposite finding."
        ),
        position=2,
        arxiv_id="2411.10987",
        authors=("Jonas Weber", "Amara Okafor"),
        author_count=2,
        organization="General Medical AI",
        published=date(2024, 11, 17),
        upvotes=4,
    ),
    ParsedPaper(
        title="PathoChat: Instruction Tuning a Slide-Level Assistant for Pathology",
        abstract=(
            "Whole-slide images are gigapixel-sized, so assistants usually see a few patches. "
            "PathoChat reads a compressed slide embedding instead and answers questions about "
            "the whole slide. On a new benchmark of 2,300 questions it beats patch-based "
            "assistants by 11 points."
        ),
        position=3,
        arxiv_id="2411.09876",
        authors=("Hiro Tanaka", "Lucia Ferrari", "Omar Haddad", "Zoe Clarke"),
        author_count=4,
        published=date(2024, 11, 15),
        upvotes=0,
    ),
)


def test_daily_papers_fixture_parses_to_expected_papers() -> None:
    listing = parse_bytes(DAILY.read_bytes(), source="daily_papers.json")
    assert listing.format is SourceFormat.JSON
    assert listing.papers == EXPECTED
    assert listing.listing_day is None
    assert listing.warnings == (
        "item 3: no paper.summary, skipped",
        "item 4: duplicate of an earlier item, skipped",
    )


def test_fixture_is_shaped_like_the_api() -> None:
    items = json.loads(DAILY.read_text(encoding="utf-8"))
    assert len(items) == 5
    assert all({"paper", "title", "numComments", "publishedAt"} <= set(item) for item in items)
    assert items[0]["paper"]["id"] == items[3]["paper"]["id"]  # the duplicate
    assert "summary" not in items[2]
    assert "summary" not in items[2]["paper"]


def test_item_summary_stands_in_for_a_missing_paper_summary() -> None:
    items = [{"paper": {"id": "2411.00001", "title": "T One"}, "summary": "Item-level text."}]
    listing = parse_json_listing(json.dumps(items), source="api")
    assert listing.papers[0].abstract == "Item-level text."
    assert listing.papers[0].arxiv_id == "2411.00001"


def test_wrapped_in_an_object_with_papers() -> None:
    payload = {"papers": [{"paper": {"id": "2411.00001v2", "title": "T", "summary": "S"}}]}
    listing = parse_json_listing(json.dumps(payload), source="api")
    assert listing.papers[0].arxiv_id == "2411.00001"


@pytest.mark.parametrize(
    ("item", "warning"),
    [
        ("not an object", "item 1: not an object, skipped"),
        ({"paper": {"summary": "S"}}, "item 1: no paper.title, skipped"),
        ({"paper": {"title": "  ", "summary": "S"}}, "item 1: no paper.title, skipped"),
        ({"paper": {"title": "T", "summary": 5}}, "item 1: no paper.summary, skipped"),
    ],
)
def test_unusable_items_are_skipped_with_a_warning(item: object, warning: str) -> None:
    good = {"paper": {"id": "2411.00002", "title": "Good", "summary": "Fine."}}
    listing = parse_json_listing(json.dumps([item, good]), source="api")
    assert [paper.title for paper in listing.papers] == ["Good"]
    assert listing.papers[0].position == 1
    assert listing.warnings == (warning,)


@pytest.mark.parametrize(
    "paper",
    [
        {"authors": 5},
        {"authors": "Ada Lovelace"},
        {"authors": {"name": "Ada"}},
        {"authors": [None, 3, {"name": None}, {"name": ["x"]}]},
        {"upvotes": "12"},
        {"upvotes": -1},
        {"upvotes": True},
        {"publishedAt": "yesterday"},
        {"publishedAt": 20241119},
        {"id": 2411.00003},
    ],
)
def test_odd_field_types_are_ignored_not_fatal(paper: dict[str, object]) -> None:
    item = {"paper": {"title": "T", "summary": "S", **paper}}
    (parsed,) = parse_json_listing(json.dumps([item]), source="api").papers
    assert (parsed.title, parsed.abstract) == ("T", "S")
    assert parsed.authors == ()
    assert parsed.upvotes is None
    assert parsed.published is None


def test_escaped_controls_and_lone_surrogates_are_cleaned() -> None:
    text = '[{"paper": {"title": "A\\u0000B\\ud800C\\u00a0D", "summary": "x\\u0007y\\u2028z"}}]'
    (paper,) = parse_json_listing(text, source="api").papers
    assert paper.title == "AB\ufffdC D"
    assert paper.abstract == "xy z"
    paper.title.encode("utf-8")  # would raise on a surrogate


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('[{"paper": {"title": "T", "summ', "not valid JSON: Unterminated string"),
        ("[{}, ", "not valid JSON: Expecting value at line 1 column 6"),
        ('{"paper": {"title": "T"}}', "JSON is not a list of daily papers items"),
        ("[1, 2]", "no paper entries found in this json source (item 1: not an object"),
        ("[" * 100_000 + "]" * 100_000, "not valid JSON: nested too deeply"),
        ("[" + "1" * 5000 + "]", "not valid JSON: Exceeds the limit"),
        ("[]", "no paper entries found in this json source"),
        ('[{"paper": {"title": "T"}}]', "no paper entries found in this json source"),
    ],
    ids=[
        "truncated",
        "truncated-list",
        "wrong-root",
        "numbers",
        "deep",
        "huge-int",
        "empty",
        "none",
    ],
)
def test_bad_json_is_refused_with_source_and_reason(text: str, reason: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_bytes(text.encode("utf-8"), source="inbox/api.json")
    assert caught.value.source == "inbox/api.json"
    assert reason in caught.value.reason


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["name", "fullname", "paper", "title"]), children)
    ),
    max_leaves=10,
)
FIELD_VALUES = st.integers() | st.booleans() | st.floats() | JSON_VALUES  # scalars first
FIELDS = ["id", "authors", "publishedAt", "upvotes", "organization", "title", "summary"]
# Items with a usable title and summary, so that every other field is read, whatever its type.
ITEMS = st.fixed_dictionaries(
    {
        "paper": st.fixed_dictionaries(
            {"title": st.text(min_size=1), "summary": st.text(min_size=1)},
            optional=dict.fromkeys(FIELDS[:5], FIELD_VALUES),
        )
    },
    optional=dict.fromkeys(FIELDS, FIELD_VALUES),
)


@settings(HYPOTHESIS, max_examples=100)
@given(st.lists(ITEMS | JSON_VALUES, max_size=5) | JSON_VALUES)
def test_any_json_value_parses_or_is_refused(payload: object) -> None:
    text = json.dumps(payload)
    try:
        listing = parse_json_listing(text, source="api")
    except InputError:
        return  # refused with a reason: fine
    for paper in listing.papers:
        assert paper.title
        assert paper.abstract
        paper.title.encode("utf-8")
        paper.abstract.encode("utf-8")

"""Properties: parsers fail only with InputError, and what a browser or OS does to a well-formed
dump (line endings, marks, encodings, blank lines, odd spaces) never loses or changes a title."""

from __future__ import annotations

import codecs
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.errors import InputError
from digest.ingest.decode import DecodedText, decode_bytes
from digest.ingest.detect import parse_listing
from digest.ingest.identity import title_key
from digest.ingest.textdump import parse_text_dump
from digest.models import ParsedListing, SourceFormat
from tests.conftest import SAMPLE_DUMPS
from tests.ingest.conftest import HYPOTHESIS, MAX_BYTES, TODAY, Entry, build_dump, parse_bytes

# --- (a) nothing but InputError ---------------------------------------------------------------

# Pieces of real dumps, so that random text reaches the metadata and pairing code paths.
PIECES = [
    "new",
    "Subscribe",
    "SubscribennU-Net",
    "Daily Papers",
    "Mar 11",
    "Feb 29",
    "Jan 11",
    "Sep 8, 2025 3",
    "Auguſt 5",
    "  • 13 authors",
    "• 1,024 authors",
    "·",
    "-",
    "General-Medical-AI General Medical AI",
    "A Title: With a Colon",
    "Is It Real? Yes!",
    "We study things. It works.",
    "https://github.com/x/y.",
    "<rss>",
    "<html>",
    "[",
    "{",
    "\n",
    "\n\n",
    "\r\n",
    "\r",
    " ",
    "\t",
    "\u00a0",
    "\u2028",
    "\ufeff",
    "\x00",
    "\x85",
    "é",
    "\ud7ff",
]
dump_like_text = st.builds(
    str.join,
    st.sampled_from(["\n", "\n\n", "", "\r\n"]),
    st.lists(st.sampled_from(PIECES) | st.text(max_size=20), max_size=60),
)


def _parse_any(text: str, fmt: SourceFormat | None) -> ParsedListing | InputError:
    try:
        return parse_listing(
            DecodedText(text=text, encoding="utf-8"), source="any", today=TODAY, fmt=fmt
        )
    except InputError as exc:
        return exc


@settings(HYPOTHESIS, max_examples=200)
@given(st.text() | dump_like_text, st.sampled_from([None, *SourceFormat]))
def test_parse_listing_raises_only_input_error(text: str, fmt: SourceFormat | None) -> None:
    listing = _parse_any(text, fmt)
    if isinstance(listing, InputError):
        assert listing.source == "any"
        assert listing.reason
    else:
        keys = [title_key(paper.title) for paper in listing.papers]
        assert len(set(keys)) == len(keys)
        assert all(keys)
        assert [paper.position for paper in listing.papers] == list(
            range(1, len(listing.papers) + 1)
        )
        assert all(paper.abstract for paper in listing.papers)


@settings(HYPOTHESIS, max_examples=200)
@given(st.text() | dump_like_text)
def test_parse_text_dump_never_raises(text: str) -> None:
    listing = parse_text_dump(text, today=TODAY)
    assert all(paper.title and paper.abstract for paper in listing.papers)


@settings(HYPOTHESIS, max_examples=200)
@given(
    st.binary(max_size=400)
    | dump_like_text.map(lambda text: text.encode("utf-8", "surrogatepass"))
    | st.tuples(
        st.sampled_from(
            [codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE]
        ),
        st.binary(max_size=200),
    ).map(b"".join)
)
def test_decode_bytes_raises_only_input_error(data: bytes) -> None:
    try:
        decoded = decode_bytes(data, source="any", max_bytes=300)
    except InputError:
        return  # refused with a reason: fine
    assert "\r" not in decoded.text
    assert "\x00" not in decoded.text
    decoded.text.encode("utf-8")


# --- (b) transformations keep every title ----------------------------------------------------

VOCABULARY = """
Medical Image Segmentation Vision Language Models Diffusion Transformer Foundation
Benchmark Dataset Learning Self-Supervised Multimodal Radiology Pathology Surgical 3D
Report Generation Retrieval Contrastive Zero-shot CT MRI X-ray Ultrasound Dermatology
Efficient Robust Scalable Clinical Reasoning Agents Towards Unified Large Scale Evaluation
Detection Registration Attention Graph Knowledge Grounded Explainable
"""
WORDS = VOCABULARY.split()
LOWER = ["for", "with", "of", "via", "and", "in", "on", "from", "the", "a", "to", "using"]
ACRONYMS = ["MedSAM", "GMAI-VL", "nnU-Net", "RAD-DINO", "SegMed-3D", "LLaVA-Med", "CheXagent"]
SEPARATORS = [": ", " -- ", " – ", " — ", "? ", "! ", " & ", ", "]
word = st.sampled_from(WORDS) | st.sampled_from(LOWER)


@st.composite
def titles(draw: st.DrawFn) -> str:
    """Titles as daily papers pages show them: never ending with a period."""
    head = draw(st.sampled_from(ACRONYMS) | st.lists(word, min_size=2, max_size=4).map(" ".join))
    separator = draw(st.sampled_from(SEPARATORS))
    tail = " ".join(draw(st.lists(word, min_size=2, max_size=10)))
    end = draw(st.sampled_from(["", "", "?", " (v2)", " in 2025"]))
    return f"{head}{separator}{tail[:1].upper()}{tail[1:]}{end}"


@st.composite
def abstracts(draw: st.DrawFn) -> str:
    """Two to six sentences; some end with a URL, as project and code links do."""
    sentences = []
    for _ in range(draw(st.integers(min_value=2, max_value=6))):
        words = draw(st.lists(word, min_size=4, max_size=18))
        sentences.append(words[0].capitalize() + " " + " ".join(words[1:]) + ".")
    while len(" ".join(sentences)) < 250:  # real abstracts run to several hundred characters
        sentences.append("Experiments on public benchmarks show consistent gains over baselines.")
    if draw(st.booleans()):
        repo = draw(st.sampled_from(["uni-medical/IMIS-Bench", "example-lab/seg_3d", "a/b-c"]))
        sentences.append(f"Code is available at https://github.com/{repo}.")
    return " ".join(sentences)


metadata = st.one_of(
    st.just((None, None)),
    st.tuples(
        st.integers(min_value=1, max_value=400).map(lambda n: f"• {n} authors")
        | st.just("General-Medical-AI General Medical AI"),
        st.tuples(
            st.sampled_from(["Jan", "Feb", "Mar", "Sep", "Nov", "Dec"]),
            st.integers(min_value=1, max_value=28),
            st.sampled_from(["", ", 2023", ", 2024", ", 2025"]),
            st.sampled_from(["", " 1", " 3", " 57"]),
        ).map(lambda parts: f"{parts[0]} {parts[1]}{parts[2]}{parts[3] if parts[2] else ''}"),
    ),
)
entries = st.lists(
    st.builds(lambda t, a, m: Entry(t, a, *m), titles(), abstracts(), metadata),
    min_size=1,
    max_size=8,
    unique_by=lambda entry: title_key(entry.title),
)
dumps = st.builds(
    build_dump,
    entries,
    day=st.sampled_from([None, "Mar 11", "Feb 29", "Nov 25"]),
    blank_lines=st.booleans(),
)

Transform = Callable[[str, random.Random], str]


def _crlf(text: str, rnd: random.Random) -> str:
    return text.replace("\n", "\r\n")


def _cr(text: str, rnd: random.Random) -> str:
    return text.replace("\n", "\r")


def _no_blank_lines(text: str, rnd: random.Random) -> str:
    return "\n".join(line for line in text.split("\n") if line.strip()) + "\n"


def _more_blank_lines(text: str, rnd: random.Random) -> str:
    return "\n".join(line + "\n" * rnd.randint(0, 2) for line in text.split("\n"))


def _pad_lines(text: str, rnd: random.Random) -> str:
    pads = ["", " ", "  ", "\t", "\u00a0", " \u00a0\t"]
    return "\n".join(rnd.choice(pads) + line + rnd.choice(pads) for line in text.split("\n"))


def _nbsp_inside(text: str, rnd: random.Random) -> str:
    return "".join(
        rnd.choice([" ", "\u00a0", "\u202f", "  "]) if char == " " else char for char in text
    )


TRANSFORMS: list[Transform] = [
    _crlf,
    _cr,
    _no_blank_lines,
    _more_blank_lines,
    _pad_lines,
    _nbsp_inside,
]
ENCODINGS: dict[str, Callable[[str], bytes]] = {
    "utf-8": lambda text: text.encode("utf-8"),
    "utf-8-bom": lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
    "utf-16-le": lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
    "utf-16-be": lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
    "utf-32": lambda text: text.encode("utf-32"),
}
transforms = st.lists(st.sampled_from(TRANSFORMS), max_size=4)
encodings = st.sampled_from(sorted(ENCODINGS))


def _apply(text: str, steps: list[Transform], encoding: str, rnd: random.Random) -> bytes:
    for step in steps:
        text = step(text, rnd)
    return ENCODINGS[encoding](text)


def _keys(listing: ParsedListing) -> set[str]:
    return {title_key(paper.title) for paper in listing.papers}


def _expected_metadata(entry: Entry) -> tuple[int | None, str | None, int | None]:
    """Author count, organisation and upvotes, read back from how the entry was written."""
    who, when = entry.who or "", (entry.date or "").split()
    authors = int(who.split()[1]) if who.startswith("•") else None
    upvotes = int(when[3]) if len(when) == 4 else None  # `Sep 8, 2025 3`
    organization = who if who and authors is None else None
    return authors, organization, upvotes


@HYPOTHESIS
@given(entries, st.sampled_from([None, "Mar 11"]), st.booleans())
def test_well_formed_dump_parses_to_its_entries(
    built: list[Entry], day: str | None, blank_lines: bool
) -> None:
    listing = parse_bytes(build_dump(built, day=day, blank_lines=blank_lines).encode())
    assert [paper.title for paper in listing.papers] == [entry.title for entry in built]
    pairs = list(zip(listing.papers, built, strict=True))
    assert [paper.abstract for paper in listing.papers] == [entry.abstract for entry in built]
    assert [
        (paper.author_count, paper.organization, paper.upvotes) for paper in listing.papers
    ] == [_expected_metadata(entry) for entry in built]
    assert all((paper.published is None) == (entry.date is None) for paper, entry in pairs)
    # A last entry without the date line the others have is what a cut-off copy looks like.
    cut_off = built[-1].date is None and any(entry.date for entry in built)
    assert [w.split(": ")[1] for w in listing.warnings] == (
        ["last entry has no date line, the dump may be cut off"] if cut_off else []
    )


@HYPOTHESIS
@given(dumps, transforms, encodings, st.randoms(use_true_random=False))
def test_transformations_keep_every_title_of_a_built_dump(
    text: str, steps: list[Transform], encoding: str, rnd: random.Random
) -> None:
    original = parse_bytes(text.encode("utf-8"))
    changed = parse_bytes(_apply(text, steps, encoding, rnd))
    assert _keys(changed) == _keys(original)
    assert [p.title for p in changed.papers] == [p.title for p in original.papers]
    assert changed.listing_day == original.listing_day


SAMPLES = {path.name: path.read_text(encoding="utf-8") for path in SAMPLE_DUMPS}


@pytest.fixture(scope="module")
def sample_keys() -> dict[str, set[str]]:
    """The title keys of each sample dump, untouched."""
    return {name: _keys(parse_bytes(text.encode())) for name, text in SAMPLES.items()}


@HYPOTHESIS
@given(
    st.sampled_from(sorted(SAMPLES)),
    transforms,
    encodings,
    st.randoms(use_true_random=False),
)
def test_transformations_keep_every_title_of_the_sample_dumps(
    sample_keys: dict[str, set[str]],
    name: str,
    steps: list[Transform],
    encoding: str,
    rnd: random.Random,
) -> None:
    data = _apply(SAMPLES[name], steps, encoding, rnd)
    assert len(data) < MAX_BYTES
    assert _keys(parse_bytes(data, source=name)) == sample_keys[name]


def test_the_transformations_change_the_bytes() -> None:
    rnd = random.Random(1)
    text = Path(SAMPLE_DUMPS[1]).read_text(encoding="utf-8")
    for step in TRANSFORMS:
        assert step(text, rnd) != text, step.__name__

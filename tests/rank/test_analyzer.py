"""The one analyzer: spelling variants meet, stems and plurals meet, Unicode is normalised,
words are whole words; checked through parse_query and the index, as alerts see them."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest.rank.analyzer import stem, tokenize, word_terms
from tests.rank.support import matches, matching

HYPOTHESIS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow],
)

X_RAY_QUERIES = ("x-ray", "X-rays", "xray", "X ray", "Xrays", "X–ray", "Ｘ－ｒａｙ", "x\u2010ray")
X_RAY_TEXTS = (
    "x-ray",
    "X-rays",
    "xray",
    "X ray",
    "X-Ray",
    "Xrays",
    "X\u00a0ray",  # a non-breaking space
    "X\nrays",  # wrapped at the end of a line
    "X\u2010ray",  # U+2010 HYPHEN
    "Ｘ－ｒａｙ",  # fullwidth
)


@pytest.mark.parametrize(("query", "text"), list(itertools.product(X_RAY_QUERIES, X_RAY_TEXTS)))
def test_every_spelling_of_x_ray_finds_every_other(query: str, text: str) -> None:
    assert matches(query, f"chest {text} images")
    assert matches(f'"{query}"', f"chest {text} images")
    # Inside a phrase, wherever the variant stands in it.
    assert matches(f'"chest {query} images"', f"chest {text} images")
    assert matches(f'"{query} images"', f"chest {text} images")


@pytest.mark.parametrize("query", X_RAY_QUERIES)
def test_x_ray_needs_its_parts_together(query: str) -> None:
    assert not matches(query, "a ray of light on x")
    assert not matches(query, "x and ray")
    assert not matches(query, "rays")


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("self-supervised", "self supervised learning"),
        ("self supervised", "self-supervised learning"),
        ("self-supervised", "self-supervision"),
        ("selfsupervised", "self-supervised learning"),
        ('"self supervised learning"', "self-supervised learning"),
        ('"self-supervised learning"', "self supervised learning"),
        ('"self-supervised learning"', "selfsupervised learning"),
        ("fine-tuning", "ﬁne-tuning"),  # the ﬁ ligature (NFKC)
        ("fine-tuned", "fine tuning"),
        ("COVID-19", "covid19 cases"),
        ("covid19", "COVID-19 cases"),
    ],
)
def test_hyphenated_words_match_their_spaced_and_joined_forms(query: str, text: str) -> None:
    assert matches(query, text)


def test_a_spaced_query_does_not_require_the_words_in_a_row() -> None:
    assert matches("self supervised", "supervised by self")
    assert not matches("self-supervised", "supervised by self")


@pytest.mark.parametrize(
    "family",
    [
        ("segmentation", "segmentations", "segmenting", "segment", "segmented"),
        ("image", "images", "imaging"),
        ("analysis", "analyses"),
        ("hypothesis", "hypotheses"),
        ("index", "indices"),
        ("matrix", "matrices"),
        ("diagnosis", "diagnoses"),
        ("model", "models", "modeling", "modelling"),
    ],
)
def test_plurals_and_stems_meet(family: tuple[str, ...]) -> None:
    for query, text in itertools.product(family, repeat=2):
        assert matches(query, f"we study {text} here"), (query, text)


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("naive", "a naïve baseline"),
        ("naïve", "a naive baseline"),
        ("NAÏVE", "a nai\u0308ve baseline"),  # decomposed: i + COMBINING DIAERESIS
        ("Schrödinger", "the schrodinger bridge"),
        ("Angstrom", "Ångström resolution"),
        ("segmentation", "ＳＥＧＭＥＮＴＡＴＩＯＮ"),  # fullwidth
        ("Straße", "STRASSE"),  # full case folding
        ("ﬁlter", "filters"),
        ("x ray", "X\u202fray"),  # a narrow no-break space
        ("σαμ", "ΣΑΜ"),  # other scripts fold case too
    ],
)
def test_unicode_is_normalised(query: str, text: str) -> None:
    assert matches(query, text)


def test_accents_stay_on_words_that_are_not_latin_once_bare() -> None:
    # Folding only when the result is plain ASCII: Greek keeps its tonos, `æ` stays.
    assert stem("ΆΛΦΑ") == "άλφα"
    assert stem("Ærø") == "ærø"
    assert not matches("naive", "naïf")


@pytest.mark.parametrize("text", ["sample", "samples", "Sampling", "SAMPLE", "resample", "SAMples"])
def test_sam_never_matches_inside_sample(text: str) -> None:
    assert not matches("SAM", f"a {text} of images")


@pytest.mark.parametrize(
    "text",
    ["SAM", "sam", "MedSAM", "3DSAM", "SAM2", "MedSAM2", "SAM-Med2D", "EfficientSAM", "SAMScore"],
)
def test_sam_finds_names_built_on_it(text: str) -> None:
    assert matches("SAM", f"we adapt {text} to ultrasound")


def test_a_name_finds_itself_not_its_parts() -> None:
    assert matches("MedSAM", "MedSAM for ultrasound")
    assert not matches("MedSAM", "SAM for medical ultrasound")
    assert matches("ResNet", "a ResNet50 backbone")
    assert matches("3D", "Med3D pretraining")
    assert not matches("segmentation", "TotalSegmentator outputs")  # a capitalised part


def test_name_pieces_keep_phrases_working() -> None:
    assert matches('"MedSAM model"', "the MedSAM model")
    assert matches('"SAM model"', "the MedSAM model")
    assert matches('"the MedSAM"', "the MedSAM model")
    assert not matches('"Med SAM"', "the MedSAM model")


def test_pieces_point_at_their_characters() -> None:
    text = "Fine 3DSAM"
    tokens = tokenize(text)
    assert [(t.term, text[t.start : t.end], t.position, t.piece) for t in tokens] == [
        ("fine", "Fine", 0, False),
        ("3dsam", "3DSAM", 1, False),
        ("3d", "3D", 1, True),
        ("sam", "SAM", 1, True),
    ]
    assert word_terms(text) == ["fine", "3dsam"]


def test_plural_acronyms_and_versions_are_not_cut() -> None:
    assert [t.term for t in tokenize("GANs")] == ["gan"]
    assert "din" not in [t.term for t in tokenize("DINOv2")]


def test_words_are_whole_words() -> None:
    assert not matches("cat", "category")
    assert not matches("ray", "array")
    assert matching("lesion", ["lesions", "nonlesional", "lesionectomy"]) == [0]


def test_document_stop_words_stay_in_the_text() -> None:
    # Dropped from queries only; a document keeps them, so phrases with them can match.
    assert word_terms("the skin of the patient") == ["the", "skin", "of", "the", "patient"]


WORDS = st.sampled_from(
    ["x", "X", "ray", "self", "MedSAM", "3DSAM", "naïve", "a", "I", "Ｘ", "segment", "19"]
)
SEPARATORS = st.sampled_from([" ", "-", "\u2010", "\u00a0", "  ", ", ", "\n", "\u0308 "])


@HYPOTHESIS
@given(st.lists(st.tuples(WORDS, SEPARATORS), max_size=12) | st.text(max_size=40))
def test_tokens_are_well_formed(parts: list[tuple[str, str]] | str) -> None:
    text = parts if isinstance(parts, str) else "".join(w + s for w, s in parts)
    tokens = tokenize(text)
    plain = [t for t in tokens if not t.compound]
    assert [t.position for t in plain] == list(range(len(plain)))
    for token in tokens:
        assert 0 <= token.start < token.end <= len(text)
        assert token.term
        assert token.width >= 1
        assert token.position + token.width <= len(plain)
        if token.piece:
            word = next(t for t in plain if t.position == token.position)
            assert word.start <= token.start < token.end <= word.end
            assert token.width == 1
        elif token.compound:
            assert token.width >= 2
            covered = [
                t for t in plain if token.position <= t.position < token.position + token.width
            ]
            assert (covered[0].start, covered[-1].end) == (token.start, token.end)
        else:
            assert token.term == stem(text[token.start : token.end])

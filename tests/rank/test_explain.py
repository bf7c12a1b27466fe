"""Explanations: the marked spans are exactly the matched terms, nothing injects HTML, the
snippet shows matches, and the reasons name the alerts, terms and fields."""

from __future__ import annotations

import re
from html import unescape

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest.rank.explain import SNIPPET_CHARS, Explanation, MatchedTerm, explain
from digest.rank.query import parse_query

HYPOTHESIS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow],
)
MARK = re.compile(r"<mark>(.*?)</mark>", re.S)


def _explain(*queries: str, title: str = "", abstract: str = "", **kw: int) -> Explanation:
    return explain(
        [(number, parse_query(q)) for number, q in enumerate(queries, start=1)],
        title=title,
        abstract=abstract,
        **kw,
    )


def marked(html: str) -> list[str]:
    """The texts inside <mark>, unescaped."""
    return [unescape(text) for text in MARK.findall(html)]


def plain(html: str) -> str:
    """The text the HTML shows: marks removed, entities decoded."""
    return unescape(html.replace("<mark>", "").replace("</mark>", ""))


def test_marks_are_exactly_the_matched_terms() -> None:
    result = _explain(
        "skin lesion",
        title="Skin lesions, skincare and lesion-free skin",
        abstract="A skinny model of the lesional skin.",
    )
    assert marked(result.title_html) == ["Skin", "lesions", "lesion", "skin"]
    # `lesional` stems to `lesion` like `lesions`; `skinny` and `skincare` are other words.
    assert marked(result.snippet_html) == ["lesional", "skin"]


def test_phrases_are_marked_whole_and_only_where_they_hold() -> None:
    result = _explain('"skin lesion"', abstract="Skin is not a lesion; skin lesions are.")
    assert marked(result.snippet_html) == ["skin lesions"]


def test_variants_are_marked_as_written() -> None:
    result = _explain(
        '"chest xray"',
        "SAM",
        "x-ray",
        title="Chest X-ray with MedSAM",
        abstract="We read chest X ray films; the x\u00a0ray tube is old.",
    )
    assert marked(result.title_html) == ["Chest X-ray", "SAM"]
    assert result.title_html.startswith("<mark>Chest X-ray</mark> with Med<mark>SAM</mark>")
    assert marked(result.snippet_html) == ["chest X ray", "x\u00a0ray"]


def test_title_only_and_excluded_terms_are_not_marked_in_the_abstract() -> None:
    result = _explain(
        "title:skin melanoma -dermoscopy",
        title="Skin atlas",
        abstract="Melanoma of the skin, without dermoscopy.",
    )
    assert marked(result.title_html) == ["Skin"]
    assert marked(result.snippet_html) == ["Melanoma"]
    assert result.reasons[0].terms == (
        MatchedTerm(text="title:skin", fields=("title",)),
        MatchedTerm(text="melanoma", fields=("abstract",)),
    )


def test_fields_and_matched_terms() -> None:
    result = _explain(
        "skin OR nevus",
        'dermatology, "skin lesion", title:atlas',
        title="A skin lesion atlas",
        abstract="Skin lesions in dermatology.",
    )
    first, second = result.reasons
    assert (first.alert_id, first.query) == (1, "skin OR nevus")
    assert first.terms == (MatchedTerm(text="skin", fields=("title", "abstract")),)
    assert second.query == 'dermatology, "skin lesion", title:atlas'
    assert second.terms == (
        MatchedTerm(text="dermatology", fields=("abstract",)),
        MatchedTerm(text='"skin lesion"', fields=("title", "abstract")),
        MatchedTerm(text="title:atlas", fields=("title",)),
    )
    assert result.matched_terms() == ["skin", "dermatology", '"skin lesion"', "title:atlas"]


def test_matched_terms_are_distinct_and_as_typed() -> None:
    result = _explain("X ray, CT", "X ray", "skin lesion", title="X ray CT", abstract="")
    assert result.matched_terms() == ["X ray", "CT"]
    assert result.reasons[2].terms == ()


def test_a_title_cannot_inject_html() -> None:
    result = _explain("alert", title="<script>alert(1)</script> & an alert")
    assert "<script" not in result.title_html
    assert result.title_html == (
        "&lt;script&gt;<mark>alert</mark>(1)&lt;/script&gt; &amp; an <mark>alert</mark>"
    )
    assert plain(result.title_html) == "<script>alert(1)</script> & an alert"


def test_markup_and_entities_in_an_abstract_are_shown_as_text() -> None:
    abstract = 'We use <b>bold</b> claims &amp; "quoted" skin <i>lesions</i>.'
    result = _explain("skin lesion", abstract=abstract)
    assert result.snippet_text == abstract
    assert "<b>" not in result.snippet_html
    assert "&amp;amp;" in result.snippet_html
    assert plain(result.snippet_html) == abstract
    assert marked(result.snippet_html) == ["skin", "lesions"]


def test_a_query_with_markup_or_quotes_marks_only_words() -> None:
    result = _explain(
        '<mark> "skin lesion"', title="<mark> is a tag", abstract='a "skin lesion" of <mark>s'
    )
    html = result.title_html + result.snippet_html
    assert re.sub(r"</?mark>", "", html).count("<") == 0
    assert marked(result.title_html) == ["mark"]
    assert marked(result.snippet_html) == ["skin lesion", "mark"]
    assert plain(result.snippet_html) == 'a "skin lesion" of <mark>s'
    assert result.reasons[0].query == '<mark> "skin lesion"'


def _filler(words: int, *, seed: int) -> list[str]:
    vocabulary = ["alpha", "beta", "gamma", "delta", "model", "study", "image", "data"]
    return [vocabulary[(seed + i * 7) % len(vocabulary)] for i in range(words)]


def test_a_long_abstract_gets_a_window_around_its_matches() -> None:
    words = _filler(200, seed=3)
    words[120] = "melanoma"
    words[126] = "melanoma"
    abstract = " ".join(words)
    result = _explain("melanoma", abstract=abstract)
    assert result.snippet_text.startswith("…")
    assert result.snippet_text.endswith("…")
    assert len(result.snippet_text) <= SNIPPET_CHARS + 2
    assert marked(result.snippet_html) == ["melanoma", "melanoma"]
    inner = result.snippet_text.strip("…")
    assert inner in abstract
    assert not inner.startswith(" ")
    assert not inner.endswith(" ")
    assert plain(result.snippet_html) == result.snippet_text


def test_the_window_prefers_the_densest_stretch() -> None:
    words = _filler(300, seed=1)
    words[20] = "melanoma"
    for spot in (200, 205, 210):
        words[spot] = "melanoma"
    result = _explain("melanoma", abstract=" ".join(words))
    assert len(marked(result.snippet_html)) == 3


def test_no_match_in_the_abstract_shows_its_start() -> None:
    abstract = " ".join(_filler(200, seed=2))
    result = _explain("melanoma", title="Melanoma", abstract=abstract)
    assert result.snippet_text.endswith("…")
    assert not result.snippet_text.startswith("…")
    assert abstract.startswith(result.snippet_text[:-1])
    assert marked(result.snippet_html) == []


@HYPOTHESIS
@given(
    length=st.integers(min_value=1, max_value=150),
    spots=st.lists(st.integers(min_value=0, max_value=149), min_size=1, max_size=4),
    seed=st.integers(min_value=0, max_value=7),
    width=st.sampled_from([40, 120, SNIPPET_CHARS]),
)
def test_the_snippet_always_holds_a_match_and_only_the_abstract(
    length: int, spots: list[int], seed: int, width: int
) -> None:
    words = _filler(length, seed=seed)
    for spot in spots:
        words[spot % length] = "Melanoma"
    abstract = " ".join(words)
    result = _explain("melanoma", abstract=abstract, snippet_chars=width)
    assert "melanoma" in [text.casefold() for text in marked(result.snippet_html)]
    assert set(marked(result.snippet_html)) == {"Melanoma"}
    assert plain(result.snippet_html) == result.snippet_text
    assert result.snippet_text.strip("…") in abstract
    assert len(result.snippet_text.strip("…")) <= width

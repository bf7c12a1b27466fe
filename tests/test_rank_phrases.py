"""A quoted phrase (or a multi-word comma item) finds the same hyphen variants as bare words."""

from __future__ import annotations

import pytest

from digest.rank.analyzer import phrase_variants
from digest.rank.index import CorpusStats, PaperIndex, RankPaper, RankParams
from digest.rank.query import parse_query
from digest.rank.search import search

TEXTS = ("chest xray images", "chest x-ray images", "chest X ray images", "chest CT images")


def _matching(query: str) -> list[str]:
    papers = [RankPaper(id=row, title=text, abstract="") for row, text in enumerate(TEXTS)]
    stats = CorpusStats(documents=len(papers), title_length=3.0, abstract_length=1.0)
    index = PaperIndex(papers, stats=stats, params=RankParams())
    hits = search(parse_query(query), index, limit=10)
    return sorted(TEXTS[hit.paper.id] for hit in hits)


@pytest.mark.parametrize(
    "query",
    ["chest x-ray", '"chest x-ray"', '"chest xray"', '"chest x ray"', "chest x-ray, mri"],
)
def test_every_spelling_of_x_ray_is_found(query: str) -> None:
    assert _matching(query) == sorted(TEXTS[:3])


def test_quoted_hyphen_word_matches_like_the_bare_word() -> None:
    assert _matching('"x-ray"') == _matching("x-ray") == sorted(TEXTS[:3])


def test_phrase_variants_join_each_compound_but_never_overlap() -> None:
    assert phrase_variants("self-supervised x-ray") == [
        ("self", "supervis", "x", "ray"),
        ("selfsupervis", "x", "ray"),
        ("self", "supervis", "xray"),
        ("selfsupervis", "xray"),
    ]
    # `and X ray` may join as `andx` or as `xray`; both at once would drop a word.
    assert phrase_variants("and X ray") == [("and", "x", "ray"), ("andx", "ray"), ("and", "xray")]
    assert phrase_variants("foundation model") == [("foundat", "model")]

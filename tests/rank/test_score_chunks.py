"""Chunk-level cases the property test missed: AND queries of different lengths side by side,
and the matched total before a subscriber's cut."""

from __future__ import annotations

from digest.rank.query import parse_query
from digest.rank.score import AlertSpec, SubscriberSpec, rank_subscribers
from tests.rank.support import make_index

TEXTS = [
    ("skin lesion classification", "deep models classify skin lesions in dermoscopy"),
    ("skin cancer screening", "screening of skin cancer with phones"),
    ("lesion segmentation in ct", "liver lesion segmentation"),
    ("retinal vessels", "vessel segmentation of fundus images"),
]


def _spec(ident: int, *queries: str, max_papers: int = 20) -> SubscriberSpec:
    alerts = tuple(
        AlertSpec(id=ident * 10 + n, query=parse_query(q)) for n, q in enumerate(queries)
    )
    return SubscriberSpec(id=ident, alerts=alerts, max_papers=max_papers)


def test_and_queries_of_different_lengths_in_one_chunk_match_only_their_own_papers() -> None:
    index = make_index(TEXTS)
    specs = [
        _spec(1, "skin lesion classification"),  # three terms: paper 0 only
        _spec(2, "skin"),  # one term: papers 0, 1
        _spec(3, "lesion segmentation -liver"),  # two terms and an exclusion: none
        _spec(4, "segmentation vessel"),  # two terms: paper 3
        _spec(5, "skin cancer", "segmentation"),  # two alerts of different lengths
    ]
    for chunk_size in (1, 2, 5):
        result = rank_subscribers(specs, index, chunk_size=chunk_size)
        got = {
            spec.id: sorted(m.paper.id for m in result.for_subscriber(spec.id)) for spec in specs
        }
        assert got == {1: [0], 2: [0, 1], 3: [], 4: [3], 5: [1, 2, 3]}, chunk_size
        alone = {
            spec.id: [
                (m.paper.id, round(m.score, 5))
                for m in rank_subscribers([spec], index).for_subscriber(spec.id)
            ]
            for spec in specs
        }
        together = {
            spec.id: [(m.paper.id, round(m.score, 5)) for m in result.for_subscriber(spec.id)]
            for spec in specs
        }
        assert together == alone  # no weight leaks from a neighbour's longer query


def test_the_matched_total_counts_papers_beyond_the_cut_and_inside_the_window() -> None:
    index = make_index(TEXTS)
    cut = _spec(1, "skin OR segmentation", max_papers=2)
    windowed = SubscriberSpec(id=2, alerts=cut.alerts, max_papers=20, first_paper=2)
    result = rank_subscribers([cut, windowed], index)
    assert len(result.for_subscriber(1)) == 2
    assert result.matched_total(1) == 4
    assert result.matched_total(2) == 2  # papers 2 and 3 only
    assert result.matched_total(99) == 0

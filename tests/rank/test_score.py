"""The vectorized ranker against a plain-Python reference, and the documented effects of the
title weight, the multi-alert bonus, upvotes and archive statistics."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest.errors import QueryError
from digest.rank.analyzer import STOPWORDS, terms
from digest.rank.index import CorpusStats, PaperIndex, RankPaper, RankParams
from digest.rank.query import Query, parse_query
from digest.rank.score import AlertSpec, Match, SubscriberSpec, rank_subscribers
from tests.rank.reference import Expected, ReferenceRanker
from tests.rank.support import make_index

HYPOTHESIS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=120,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TOLERANCE = 1e-4  # float32 against float64, relative

# Words and runs chosen to exercise the analyzer: variants of x-ray, a name built on SAM,
# stems, stop words, hyphenated words; queries also hold words no paper ever has.
PAPER_WORDS = [
    "skin", "lesions", "lesion", "melanoma", "x-ray", "xray", "X ray", "chest X-ray", "MedSAM",
    "SAM model", "sample", "segmentation", "segmenting", "the skin", "of", "skin lesion",
    "self-supervised", "self supervised learning",
]  # fmt: skip
QUERY_WORDS = [
    "skin", "lesion", "melanoma", "x-ray", "xray", "X ray", "SAM", "sample", "segmentation",
    "self-supervised", "supervised", "learning", "zebra", "quokka",
]  # fmt: skip
QUERY_PHRASES = [
    "skin lesion", "lesion skin", "chest xray", "x-ray", "SAM model", "self supervised",
    "the skin", "of the", "zebra skin",
]  # fmt: skip


@st.composite
def texts(draw: st.DrawFn, *, min_words: int = 0, max_words: int) -> str:
    words = draw(st.lists(st.sampled_from(PAPER_WORDS), min_size=min_words, max_size=max_words))
    separators = draw(
        st.lists(st.sampled_from([" ", " ", " ", ", "]), min_size=len(words), max_size=len(words))
    )
    return "".join(w + s for w, s in zip(words, separators, strict=True)).strip()


@st.composite
def papers(draw: st.DrawFn) -> list[RankPaper]:
    count = draw(st.integers(min_value=1, max_value=12))
    return [
        RankPaper(
            id=100 + row,
            title=draw(texts(max_words=5)),
            abstract=draw(texts(min_words=3, max_words=16)),
            upvotes=draw(st.none() | st.integers(min_value=0, max_value=80)),
        )
        for row in range(count)
    ]


@st.composite
def terms_text(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(["", "", "", "title:"]))
    if draw(st.booleans()):
        return prefix + draw(st.sampled_from(QUERY_WORDS))
    return f'{prefix}"{draw(st.sampled_from(QUERY_PHRASES))}"'


@st.composite
def queries(draw: st.DrawFn) -> Query:
    if draw(st.integers(min_value=0, max_value=4)) == 0:  # a comma list
        items = draw(
            st.lists(
                st.sampled_from([*QUERY_WORDS, "skin lesion", "x ray"]), min_size=1, max_size=3
            )
        )
        excluded = draw(st.lists(st.sampled_from(QUERY_WORDS), max_size=1))
        text = ", ".join(items + [f"-{word}" for word in excluded])
    else:
        groups = draw(
            st.lists(st.lists(terms_text(), min_size=1, max_size=3), min_size=1, max_size=2)
        )
        excluded = draw(st.lists(terms_text(), max_size=1))
        text = " ".join(
            [" OR ".join(group) for group in groups] + [f"-{term}" for term in excluded]
        )
    try:
        return parse_query(text)
    except QueryError:  # e.g. every positive word a stop word: not an alert anyone keeps
        return parse_query("skin")


@st.composite
def subscribers(draw: st.DrawFn, papers_count: int) -> list[SubscriberSpec]:
    count = draw(st.integers(min_value=1, max_value=6))
    specs = []
    for number in range(count):
        alerts = draw(st.lists(queries(), max_size=4))
        specs.append(
            SubscriberSpec(
                id=number * 7 + 3,
                alerts=tuple(
                    AlertSpec(id=1000 * number + bit, query=query)
                    for bit, query in enumerate(alerts)
                ),
                max_papers=draw(st.integers(min_value=0, max_value=papers_count + 1)),
                first_paper=draw(st.integers(min_value=0, max_value=papers_count)),
            )
        )
    return specs


@st.composite
def archive(draw: st.DrawFn, papers: list[RankPaper]) -> CorpusStats:
    """Archive statistics consistent with holding today's papers, or none at all."""
    vocabulary = sorted({t for p in papers for t in terms(p.title) + terms(p.abstract)})
    if draw(st.booleans()):
        return CorpusStats(documents=0, title_length=0.0, abstract_length=0.0)
    extra = draw(st.integers(min_value=0, max_value=60))
    documents = len(papers) + extra
    df = {term: draw(st.integers(min_value=0, max_value=documents)) for term in vocabulary}
    return CorpusStats(
        documents=documents,
        title_length=draw(st.floats(min_value=1.0, max_value=12.0)),
        abstract_length=draw(st.floats(min_value=1.0, max_value=40.0)),
        df=df,
    )


PARAMS = st.builds(
    RankParams,
    title_weight=st.sampled_from([1.0, 3.0]),
    multi_alert_bonus=st.sampled_from([0.0, 0.25, 1.0]),
    upvote_weight=st.sampled_from([0.0, 0.1]),
)


@st.composite
def scenarios(
    draw: st.DrawFn,
) -> tuple[list[RankPaper], CorpusStats, RankParams, list[SubscriberSpec], int]:
    batch = draw(papers())
    return (
        batch,
        draw(archive(batch)),
        draw(PARAMS),
        draw(subscribers(len(batch))),
        draw(st.integers(min_value=1, max_value=3)),
    )


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=1e-6)


def _assert_same(
    actual: list[Match], everything: list[Expected], *, max_papers: int, rows: dict[int, int]
) -> None:
    """Same papers, scores and alerts as the reference's first `max_papers`; papers whose
    scores tie (within float error) at the cut may be exchanged or come in either order."""
    expected = everything[:max_papers]
    by_row = {e.paper_row: e for e in everything}
    actual_rows = [rows[m.paper.id] for m in actual]
    assert len(actual) == len(expected)
    for match, row, want in zip(actual, actual_rows, expected, strict=True):
        assert _close(match.score, want.score)  # the k-th best score is the k-th best score
        assert row in by_row, "matched a paper the reference does not match"
        assert _close(match.score, by_row[row].score)
        assert match.alert_ids == by_row[row].alert_ids
    cut = expected[-1].score if expected else math.inf
    for want in expected:
        if want.paper_row not in actual_rows:
            assert _close(want.score, cut)


@HYPOTHESIS
@given(scenarios())
def test_rank_subscribers_agrees_with_the_reference(
    scenario: tuple[list[RankPaper], CorpusStats, RankParams, list[SubscriberSpec], int],
) -> None:
    batch, stats, params, specs, chunk_size = scenario
    index = PaperIndex(batch, stats=stats, params=params)
    result = rank_subscribers(specs, index, chunk_size=chunk_size)
    ref = ReferenceRanker(batch, stats=stats, params=params)
    rows = {paper.id: row for row, paper in enumerate(batch)}
    total = 0
    for spec in specs:
        everything = ref.rank(replace(spec, max_papers=len(batch)))
        actual = result.for_subscriber(spec.id)
        _assert_same(actual, everything, max_papers=spec.max_papers, rows=rows)
        assert all(m.subscriber_id == spec.id for m in actual)
        assert (spec.id in result.subscribers_with_matches()) == bool(actual)
        total += len(actual)
    assert len(result) == total


def test_index_weights_are_the_reference_bm25f() -> None:
    batch = [
        RankPaper(1, "Skin lesion atlas", "Melanoma and skin lesions of the skin."),
        RankPaper(2, "X-ray of MedSAM", "x ray images, more x-ray images"),
        RankPaper(3, "", "skin"),
    ]
    stats = CorpusStats(
        documents=50, title_length=4.0, abstract_length=9.0, df={"skin": 20, "xray": 3}
    )
    params = RankParams()
    index = PaperIndex(batch, stats=stats, params=params)
    ref = ReferenceRanker(batch, stats=stats, params=params)
    for term, column in index.vocab.items():
        for row in range(len(batch)):
            got_any = float(index.any_weights[row, column])
            got_title = float(index.title_weights[row, column])
            assert math.isclose(got_any, ref.weight(row, term, title_only=False), rel_tol=1e-9)
            assert math.isclose(got_title, ref.weight(row, term, title_only=True), rel_tol=1e-9)


def _one(
    query: str, index: PaperIndex, *, max_papers: int = 10, extra: tuple[str, ...] = ()
) -> list[Match]:
    alerts = tuple(AlertSpec(id=n, query=parse_query(q)) for n, q in enumerate((query, *extra)))
    spec = SubscriberSpec(id=1, alerts=alerts, max_papers=max_papers)
    return rank_subscribers([spec], index).for_subscriber(1)


FILLER = "we report results on public data with a careful protocol and code"


def test_a_title_match_ranks_above_an_abstract_only_match() -> None:
    index = make_index(
        [
            ("cohort study of patients", f"melanoma {FILLER}"),
            ("melanoma study of patients", f"cohort {FILLER}"),
        ]
    )
    ranked = _one("melanoma", index)
    assert [m.paper.id for m in ranked] == [1, 0]
    assert ranked[0].score > ranked[1].score
    # With the title weighted like the abstract, and no length normalisation, they tie.
    flat = RankParams(title_weight=1.0, title_b=0.0, abstract_b=0.0)
    tied = _one("melanoma", make_index([(t, a) for t, a in index_texts(index)], params=flat))
    assert math.isclose(tied[0].score, tied[1].score, rel_tol=1e-6)
    assert [m.paper.id for m in tied] == [0, 1]  # equal scores: the earlier paper first


def index_texts(index: PaperIndex) -> list[tuple[str, str]]:
    return [(p.title, p.abstract) for p in index.papers]


def test_the_multi_alert_bonus_lifts_papers_matching_several_alerts() -> None:
    texts = [
        ("melanoma", FILLER),  # 0: alert 0 only, in its short title
        ("atlas", f"melanoma and dermoscopy, {FILLER} {FILLER}"),  # 1: both alerts, weakly
    ]
    alerts = ("melanoma",)
    extra = ("dermoscopy",)
    without = _one(
        *alerts, make_index(texts, params=RankParams(multi_alert_bonus=0.0)), extra=extra
    )
    with_bonus = _one(
        *alerts, make_index(texts, params=RankParams(multi_alert_bonus=1.0)), extra=extra
    )
    assert [m.paper.id for m in without] == [0, 1]
    assert [m.paper.id for m in with_bonus] == [1, 0]
    assert [m.alert_ids for m in with_bonus] == [(0, 1), (0,)]
    weak = next(m for m in without if m.paper.id == 1)
    assert math.isclose(with_bonus[0].score, 2 * weak.score, rel_tol=1e-6)  # best x (1 + 1)


def test_upvotes_add_their_log_weight_to_matches_only() -> None:
    batch = [
        RankPaper(0, "skin lesion", FILLER, upvotes=None),
        RankPaper(1, "skin lesion", FILLER, upvotes=50),
        RankPaper(2, "cohort", FILLER, upvotes=500),
    ]
    plain = _one("skin", make_index(batch))
    voted = _one("skin", make_index(batch, params=RankParams(upvote_weight=0.5)))
    assert [m.paper.id for m in plain] == [0, 1]  # a tie: listing order
    assert [m.paper.id for m in voted] == [1, 0]
    assert math.isclose(voted[0].score - plain[0].score, 0.5 * math.log1p(50), rel_tol=1e-5)
    assert math.isclose(voted[1].score, plain[0].score, rel_tol=1e-6)


def test_scores_use_archive_statistics_and_not_the_batch() -> None:
    paper = RankPaper(7, "Skin lesion segmentation", f"skin {FILLER}")

    def score(batch: list[RankPaper], df: int, documents: int = 10_000) -> float:
        stats = CorpusStats(
            documents=documents, title_length=5.0, abstract_length=15.0, df={"skin": df}
        )
        index = PaperIndex(batch, stats=stats, params=RankParams())
        return next(m.score for m in _one("skin", index) if m.paper.id == 7)

    rare, common = score([paper], df=10), score([paper], df=5000)
    assert rare > common
    others = [RankPaper(n, f"skin study {n}", "skin") for n in range(1, 6)]
    # The same archive, two different days: the paper scores the same.
    assert score([paper, *others], df=5000) == pytest.approx(common, rel=1e-6)
    assert score([*others[:2], paper], df=5000) == pytest.approx(common, rel=1e-6)
    # Without archive statistics the batch would decide: five other skin papers of six.
    assert score([paper, *others], df=0, documents=0) != pytest.approx(
        score([paper], df=0, documents=0), rel=1e-3
    )


def test_ties_keep_listing_order_and_a_short_digest_is_the_start_of_a_long_one() -> None:
    texts = [("skin lesion" if n % 3 else "cohort", FILLER) for n in range(40)]
    index = make_index(texts)
    full = [m.paper.id for m in _one("skin", index, max_papers=40)]
    assert full == [n for n in range(40) if n % 3]
    for cut in (1, 3, 7, 20):
        assert [m.paper.id for m in _one("skin", index, max_papers=cut)] == full[:cut]


def test_equal_scores_inside_a_digest_keep_listing_order() -> None:
    levels = ["skin skin", "skin", "skin lesion cohort study"]  # three distinct scores
    layout = [2, 1, 0, 2, 1, 1, 0, 2, 2, 1, 0, 1, 2, 2, 0, 1, 2, 2, 2, 2] * 2
    index = make_index([(levels[level], FILLER) for level in layout])
    rows = [m.paper.id for m in _one("skin", index, max_papers=20)]
    by_level = [[row for row, level in enumerate(layout) if level == n] for n in range(3)]
    assert len(by_level[0]) + len(by_level[1]) == 20  # the cut falls between two levels
    assert rows == by_level[0] + by_level[1]


def test_subscribers_without_alerts_or_matches_get_nothing() -> None:
    index = make_index([("skin", ""), ("melanoma", "")])
    specs = [
        SubscriberSpec(id=1, alerts=()),
        SubscriberSpec(id=2, alerts=(AlertSpec(5, parse_query("zebra")),)),
        SubscriberSpec(id=3, alerts=(AlertSpec(6, parse_query("skin")),), first_paper=1),
        SubscriberSpec(id=4, alerts=(AlertSpec(7, parse_query("melanoma")),), first_paper=1),
        SubscriberSpec(id=5, alerts=(AlertSpec(8, parse_query("skin")),), max_papers=0),
    ]
    result = rank_subscribers(specs, index, chunk_size=2)
    assert result.subscribers_with_matches() == [4]
    assert [m.paper.id for m in result.for_subscriber(4)] == [1]
    assert result.for_subscriber(1) == result.for_subscriber(99) == []
    assert len(rank_subscribers(specs, make_index([]))) == 0


def test_more_alerts_than_a_mask_holds_are_refused() -> None:
    alerts = tuple(AlertSpec(n, parse_query("skin")) for n in range(64))
    with pytest.raises(ValueError, match="more than 63 alerts"):
        rank_subscribers([SubscriberSpec(id=1, alerts=alerts)], make_index([("skin", "")]))


def test_many_alerts_report_every_matched_alert() -> None:
    words = [f"w{n}" for n in range(63)]
    index = make_index([(" ".join(words), ""), ("w62", "")])
    alerts = tuple(AlertSpec(n, parse_query(w)) for n, w in enumerate(words))
    result = rank_subscribers([SubscriberSpec(id=1, alerts=alerts)], index)
    first, second = result.for_subscriber(1)
    assert first.alert_ids == tuple(range(63))
    assert second.alert_ids == (62,)


def test_scores_are_finite_and_positive() -> None:
    index = make_index([("the the the", "the"), ("skin", "skin " * 300)], documents=1)
    ranked = _one('skin, "the the"', index)
    assert ranked
    assert all(np.isfinite(m.score) and m.score > 0 for m in ranked)
    assert set(STOPWORDS) >= {"the"}

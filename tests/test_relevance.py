"""Digest's alert ranking keeps its measured relevance on the team's judged set (issue 3).

The figures and their definitions live in benchmarks/relevance.py, which prints the full
table; benchmarks/README.md discusses them. MEASURED_* are the means it printed when the
judgments were made. Falling below them by more than MARGIN means a change to the analyzer,
the alert language or the scorer made the digests worse for these alerts: look at the
per-alert table before moving the numbers. Raise them when a change earns it.
"""

from __future__ import annotations

import pytest
from benchmarks.relevance import (
    DIGEST_MAX,
    METHODS,
    Evaluation,
    evaluate,
    load_alerts,
    load_papers,
    load_qrels,
)

MEASURED_NDCG = 0.928  # digest's mean nDCG@10 over the eight alerts
MEASURED_F1 = 0.573  # digest's mean F1 of the papers a daily digest sends
MARGIN = 0.02


@pytest.fixture(scope="module")
def evaluation() -> Evaluation:
    return evaluate()


def test_every_sample_paper_is_judged_for_every_alert() -> None:
    keys = {paper.key for paper in load_papers()}
    qrels = load_qrels()
    alerts = load_alerts()
    assert len(keys) == 313
    assert len(alerts) == 8
    assert set(qrels) == {alert.id for alert in alerts}
    for alert in alerts:
        assert set(qrels[alert.id]) == keys, alert.id
        assert set(qrels[alert.id].values()) <= {0, 1, 2}, alert.id
        assert any(grade == 2 for grade in qrels[alert.id].values()), alert.id


def test_digest_keeps_its_measured_ndcg_and_f1(evaluation: Evaluation) -> None:
    mean = evaluation.mean["digest"]
    assert mean.ndcg >= MEASURED_NDCG - MARGIN
    assert mean.f1 >= MEASURED_F1 - MARGIN


def test_digest_beats_the_substring_baseline_on_ndcg(evaluation: Evaluation) -> None:
    assert evaluation.mean["digest"].ndcg > evaluation.mean["substring"].ndcg


def test_every_method_sends_at_most_a_digest_per_alert(evaluation: Evaluation) -> None:
    for method in METHODS:
        for scores in evaluation.per_alert[method].values():
            assert 0 < scores.sent <= DIGEST_MAX
            assert scores.sent <= scores.matched

"""Rank the papers for every subscriber at once: sparse matrix algebra, no per-pair loops.

For a chunk of subscribers the alerts become three sparse matrices over the distinct
features (which clause holds which feature, which alert excludes which, which features
score); a few sparse products give, for every paper and alert, whether the alert holds and
its BM25F score. Alerts then fold into their subscriber (best score, bonus for each further
alert matched, optional upvote weight) and the top papers per subscriber are kept.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from digest.rank.index import PaperIndex, RankPaper
from digest.rank.query import Feature, Query

CHUNK_SUBSCRIBERS = 1000
MAX_ALERTS = 63  # matched alerts travel as bits of one uint64


@dataclass(frozen=True, slots=True)
class AlertSpec:
    """One alert of a subscriber."""

    id: int
    query: Query


@dataclass(frozen=True, slots=True)
class SubscriberSpec:
    """A subscriber as ranking sees them: alerts, how many papers, which papers are theirs."""

    id: int
    alerts: tuple[AlertSpec, ...]
    max_papers: int = 20
    first_paper: int = 0  # papers before this row of the index are outside their window


@dataclass(frozen=True, slots=True)
class Match:
    """A paper chosen for a subscriber, its score and the alerts that matched it."""

    subscriber_id: int
    paper: RankPaper
    score: float
    alert_ids: tuple[int, ...]


class RankResult:
    """The matches of all subscribers, kept as arrays until a surface asks for one."""

    def __init__(
        self,
        index: PaperIndex,
        subscribers: Sequence[SubscriberSpec],
        rows: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    ) -> None:
        self._papers = index.papers
        self._alerts = {spec.id: tuple(alert.id for alert in spec.alerts) for spec in subscribers}
        if rows:
            subs, papers, scores, masks = (
                np.concatenate(parts) for parts in zip(*rows, strict=True)
            )
        else:
            subs = papers = masks = np.zeros(0, dtype=np.int64)
            scores = np.zeros(0, dtype=np.float32)
        self.subscriber_ids = subs
        self.paper_rows = papers
        self.scores = scores
        self.alert_masks = masks
        boundaries = np.flatnonzero(np.diff(subs)) + 1 if len(subs) else np.zeros(0, np.int64)
        starts = np.concatenate(([0], boundaries)) if len(subs) else boundaries
        ends = np.concatenate((boundaries, [len(subs)])) if len(subs) else boundaries
        self._slices = {
            int(subs[start]): (int(start), int(end))
            for start, end in zip(starts, ends, strict=True)
        }

    def __len__(self) -> int:
        return len(self.subscriber_ids)

    def subscribers_with_matches(self) -> list[int]:
        """Ids of the subscribers who got at least one paper."""
        return list(self._slices)

    def for_subscriber(self, subscriber_id: int) -> list[Match]:
        """One subscriber's matches, best first."""
        start, end = self._slices.get(subscriber_id, (0, 0))
        alert_ids = self._alerts.get(subscriber_id, ())
        return [
            Match(
                subscriber_id=subscriber_id,
                paper=self._papers[int(self.paper_rows[i])],
                score=float(self.scores[i]),
                alert_ids=tuple(
                    alert_id
                    for bit, alert_id in enumerate(alert_ids)
                    if int(self.alert_masks[i]) >> bit & 1
                ),
            )
            for i in range(start, end)
        ]


def rank_subscribers(
    subscribers: Sequence[SubscriberSpec],
    index: PaperIndex,
    *,
    chunk_size: int = CHUNK_SUBSCRIBERS,
) -> RankResult:
    """Rank the index's papers for every subscriber with alerts; pure and vectorized."""
    with_alerts = [spec for spec in subscribers if spec.alerts]
    for spec in with_alerts:
        if len(spec.alerts) > MAX_ALERTS:
            raise ValueError(f"subscriber {spec.id} has more than {MAX_ALERTS} alerts")
    features: dict[Feature, int] = {}
    for spec in with_alerts:
        for alert in spec.alerts:
            for term in (*alert.query.terms(), *alert.query.excluded):
                features.setdefault(term.feature, len(features))
    if not with_alerts or not index.papers:
        return RankResult(index, subscribers, [])
    scores = index.evaluate(list(features)).tocsr()
    present = scores.copy()
    present.data = np.ones_like(present.data)
    upvotes = np.log1p(np.asarray([paper.upvotes or 0 for paper in index.papers], dtype=np.float32))
    rows = [
        _rank_chunk(chunk, features, scores, present, upvotes, index)
        for chunk in _chunks(with_alerts, chunk_size)
    ]
    return RankResult(index, subscribers, rows)


def _chunks(items: Sequence[SubscriberSpec], size: int) -> Iterator[Sequence[SubscriberSpec]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _rank_chunk(
    chunk: Sequence[SubscriberSpec],
    features: dict[Feature, int],
    scores: sp.csr_matrix,
    present: sp.csr_matrix,
    upvotes: np.ndarray,
    index: PaperIndex,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    clause_rows: list[int] = []  # feature of each (clause, feature) entry
    clause_cols: list[int] = []
    alert_of_clause: list[int] = []
    required: list[int] = []
    exclude_rows: list[int] = []
    exclude_cols: list[int] = []
    positive_rows: list[int] = []
    positive_cols: list[int] = []
    offsets: list[int] = []
    bit_of_alert: list[int] = []
    alert = 0
    for spec in chunk:
        offsets.append(alert)
        for bit, spec_alert in enumerate(spec.alerts):
            query = spec_alert.query
            for clause in query.clauses:
                clause_id = len(alert_of_clause)
                alert_of_clause.append(alert)
                for term in clause:
                    clause_rows.append(features[term.feature])
                    clause_cols.append(clause_id)
                    positive_rows.append(features[term.feature])
                    positive_cols.append(alert)
            for term in query.excluded:
                exclude_rows.append(features[term.feature])
                exclude_cols.append(alert)
            required.append(len(query.clauses))
            bit_of_alert.append(bit)
            alert += 1
    n_features, n_alerts, n_clauses = len(features), alert, len(alert_of_clause)
    membership = _ones(clause_rows, clause_cols, (n_features, n_clauses))
    clause_alert = _ones(list(range(n_clauses)), alert_of_clause, (n_clauses, n_alerts))
    exclusion = _ones(exclude_rows, exclude_cols, (n_features, n_alerts))
    positive = _ones(positive_rows, positive_cols, (n_features, n_alerts))

    clause_hits = (present @ membership).tocsr()
    clause_hits.data = np.ones_like(clause_hits.data)
    satisfied = (clause_hits @ clause_alert).toarray() == np.asarray(required)[None, :]
    excluded = (present @ exclusion).toarray() > 0
    alert_scores = (scores @ positive).toarray().astype(np.float32)
    alert_scores[~satisfied | excluded] = 0.0

    starts = np.asarray(offsets)
    hit = alert_scores > 0
    best = np.maximum.reduceat(alert_scores, starts, axis=1)
    count = np.add.reduceat(hit, starts, axis=1, dtype=np.int32)
    bits = np.left_shift(np.uint64(1), np.asarray(bit_of_alert, dtype=np.uint64))
    masks = np.add.reduceat(hit.astype(np.uint64) * bits[None, :], starts, axis=1)

    params = index.params
    final = best * (1.0 + params.multi_alert_bonus * np.maximum(count - 1, 0))
    final += params.upvote_weight * upvotes[:, None] * (count > 0)
    first = np.asarray([spec.first_paper for spec in chunk])
    final[np.arange(final.shape[0])[:, None] < first[None, :]] = 0.0
    return _top(chunk, final.astype(np.float32), masks)


def _top(
    chunk: Sequence[SubscriberSpec], final: np.ndarray, masks: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Keep each subscriber's best papers (positive scores only, up to their maximum), the
    earlier paper first among equal scores."""
    n_papers = final.shape[0]
    limits = np.asarray([spec.max_papers for spec in chunk])
    k = int(min(n_papers, max(int(limits.max()), 1)))
    if k < n_papers:
        candidates = np.argpartition(-final, k - 1, axis=0)[:k]
        # Papers tied with the k-th are kept in no particular order; keep the earliest, so
        # that a shorter digest is always the start of a longer one.
        kth = np.take_along_axis(final, candidates, axis=0).min(axis=0)
        tied = np.flatnonzero((kth > 0) & ((final >= kth[None, :]).sum(axis=0) > k))
        for column in tied:
            candidates[:, column] = np.argsort(-final[:, column], kind="stable")[:k]
    else:
        candidates = np.broadcast_to(np.arange(n_papers)[:, None], final.shape).copy()
    candidates.sort(axis=0)  # paper order, which the stable sort below keeps among equals
    values = np.take_along_axis(final, candidates, axis=0)
    order = np.argsort(-values, axis=0, kind="stable")
    candidates = np.take_along_axis(candidates, order, axis=0)
    values = np.take_along_axis(values, order, axis=0)
    rank = np.arange(candidates.shape[0])[:, None]
    keep = (values > 0) & (rank < limits[None, :])
    columns = np.broadcast_to(np.arange(len(chunk))[None, :], keep.shape)
    # Column-major so that each subscriber's rows come out together, best first.
    keep_t, cand_t, val_t, col_t = keep.T, candidates.T, values.T, columns.T
    ids = np.asarray([spec.id for spec in chunk], dtype=np.int64)
    paper_rows = cand_t[keep_t]
    subscriber_cols = col_t[keep_t]
    return (
        ids[subscriber_cols],
        paper_rows.astype(np.int64),
        val_t[keep_t],
        masks[paper_rows, subscriber_cols],
    )


def _ones(rows: list[int], cols: list[int], shape: tuple[int, int]) -> sp.csr_matrix:
    data = np.ones(len(rows), dtype=np.float32)
    return sp.csr_matrix((data, (rows, cols)), shape=shape)

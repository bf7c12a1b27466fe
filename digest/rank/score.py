"""Rank the papers for every subscriber at once: array algebra, no per-pair loops.

Every distinct feature is scored once on all papers (`PaperIndex.evaluate`) and every
distinct query matched in bulk (`matching`): only the (alert, paper) pairs where an alert
holds come out. For a chunk of subscribers those pairs fold into (subscriber, paper) cells
(best alert score, a bonus for each further alert matched, optional upvote weight), and one
sort of the matched cells keeps each subscriber's top papers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from digest.rank.index import PaperIndex, RankPaper, concat_ranges
from digest.rank.matching import SINGLE, AlertMatcher, AlertPlan
from digest.rank.query import Query

CHUNK_SUBSCRIBERS = 1000
CHUNK_CELLS = 2_000_000  # subscribers x papers per chunk at most: its buffers stay small
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
        totals: list[tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> None:
        self._papers = index.papers
        # Looked up when a surface asks: a tuple per subscriber up front would be 10^5 new
        # objects for the garbage collector to walk.
        self._specs = {spec.id: spec for spec in subscribers}
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
        starts = np.flatnonzero(np.diff(subs, prepend=subs[:1] - 1)) if len(subs) else subs
        self._bounds = np.concatenate((starts, [len(subs)])).astype(np.int64)
        self._blocks = dict(zip(subs[starts].tolist(), range(len(starts)), strict=True))
        self._totals_parts = totals or []
        self._totals: dict[int, int] | None = None

    def __len__(self) -> int:
        return len(self.subscriber_ids)

    def subscribers_with_matches(self) -> list[int]:
        """Ids of the subscribers who got at least one paper."""
        return list(self._blocks)

    def matched_total(self, subscriber_id: int) -> int:
        """How many papers matched the subscriber's alerts in their window, before the cut to
        their maximum (a digest says "20 of 25" and links to the rest)."""
        if self._totals is None:
            self._totals = {
                int(ident): int(count)
                for ids, counts in self._totals_parts
                for ident, count in zip(ids.tolist(), counts.tolist(), strict=True)
                if count
            }
        return self._totals.get(subscriber_id, 0)

    def for_subscriber(self, subscriber_id: int) -> list[Match]:
        """One subscriber's matches, best first."""
        block = self._blocks.get(subscriber_id)
        if block is None:
            return []
        start, end = int(self._bounds[block]), int(self._bounds[block + 1])
        spec = self._specs.get(subscriber_id)
        alert_ids = tuple(alert.id for alert in spec.alerts) if spec else ()
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
    if not with_alerts or not index.papers:
        return RankResult(index, subscribers, [])
    plan = AlertPlan.build(
        [alert.query for spec in with_alerts for alert in spec.alerts],
        [len(spec.alerts) for spec in with_alerts],
    )
    scores = index.evaluate(plan.features).tocsc()
    chunk_size = max(1, min(chunk_size, CHUNK_CELLS // len(index.papers)))
    folder = _Folder(with_alerts, plan, scores, index, chunk_size)
    rows = []
    totals = []
    for start in range(0, len(with_alerts), chunk_size):
        chunk = range(start, min(start + chunk_size, len(with_alerts)))
        rows.append(folder.rank(chunk))
        totals.append((folder.ids[chunk.start : chunk.stop], folder.last_totals))
    return RankResult(index, subscribers, rows, totals)


class _Folder:
    """Ranks chunks of subscribers: their alerts' matches, folded per subscriber, the top kept."""

    def __init__(
        self,
        subscribers: Sequence[SubscriberSpec],
        plan: AlertPlan,
        scores: sp.csc_matrix,
        index: PaperIndex,
        chunk_size: int,
    ) -> None:
        self.plan = plan
        self.scores = scores
        self.matcher = AlertMatcher(plan, scores)
        self.params = index.params
        self.upvotes = np.log1p(
            np.asarray([paper.upvotes or 0 for paper in index.papers], dtype=np.float32)
        )
        self.ids = np.asarray([spec.id for spec in subscribers], dtype=np.int64)
        self.limits = np.asarray([spec.max_papers for spec in subscribers], dtype=np.int64)
        self.firsts = np.asarray([spec.first_paper for spec in subscribers], dtype=np.int64)
        self.last_totals = np.zeros(0, dtype=np.int64)
        # (subscriber, paper) cells of a chunk; reused, and zeroed again after each chunk.
        cells = chunk_size * len(index.papers)
        self.best = np.zeros(cells, dtype=np.float32)
        self.masks = np.zeros(cells, dtype=plan.alert_flag.dtype)
        # 1 + bonus * (alerts - 1), by number of alerts matched; in float32 when that is exact
        # (a float32 product of float32 factors rounds like their float64 product cast down).
        bonus = 1.0 + self.params.multi_alert_bonus * np.maximum(np.arange(MAX_ALERTS + 1) - 1, 0)
        exact = np.array_equal(bonus.astype(np.float32), bonus)
        self.bonus = bonus.astype(np.float32) if exact else bonus

    def rank(self, chunk: range) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(subscriber ids, paper rows, scores, alert masks) of a chunk, best first."""
        plan, papers = self.plan, self.scores.shape[0]
        bounds = plan.alert_ptr[chunk.start : chunk.stop + 1]
        alerts = slice(bounds[0], bounds[-1])
        queries, flags = plan.alert_query[alerts], plan.alert_flag[alerts]
        owners = np.repeat(np.arange(len(chunk)), np.diff(bounds))
        shapes = plan.shape[queries]
        used = len(chunk) * papers
        best, masks = self.best[:used], self.masks[:used]
        for shape in np.unique(shapes).tolist():
            chosen = shapes == shape
            if shape == SINGLE:  # the feature's column of the scores
                columns = plan.single[queries[chosen]]
                indptr, indices, data = self.scores.indptr, self.scores.indices, self.scores.data
            else:
                distinct, columns = np.unique(queries[chosen], return_inverse=True)
                indptr, indices, data = self.matcher.columns(shape, distinct)
            low = indptr[columns]
            sizes = indptr[columns + 1] - low
            at = concat_ranges(low, sizes)
            cells = np.repeat(owners[chosen] * papers, sizes) + indices[at]
            np.maximum.at(best, cells, data[at])
            np.add.at(masks, cells, np.repeat(flags[chosen], sizes))  # distinct bits: + is |
        matched = np.flatnonzero(best > 0)
        per_owner = np.diff(np.searchsorted(matched, np.arange(len(chunk) + 1) * papers))
        owner = np.repeat(np.arange(len(chunk)), per_owner)
        row = matched - owner * papers
        counts = _popcount(masks[matched])
        if self.params.upvote_weight:
            final = best[matched] * self.bonus[counts].astype(np.float64)
            final += self.params.upvote_weight * self.upvotes[row]
        else:
            final = best[matched] * self.bonus[counts]
        firsts = self.firsts[chunk.start : chunk.stop]
        if firsts.any():  # papers before a subscriber's window are not theirs
            inside = row >= firsts[owner]
            owner, row, final = owner[inside], row[inside], final[inside]
            per_owner = np.bincount(owner, minlength=len(chunk))
        self.last_totals = per_owner.astype(np.int64)  # matched before the cut, per subscriber
        limits = self.limits[chunk.start : chunk.stop]
        owner, row, score = _top(owner, row, final.astype(np.float32), per_owner, limits)
        found = masks[owner * papers + row].astype(np.uint64)
        best[:] = 0.0
        masks[:] = 0
        return self.ids[chunk.start : chunk.stop][owner], row, score, found


def _top(
    owner: np.ndarray, row: np.ndarray, score: np.ndarray, per_owner: np.ndarray, limits: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each owner's best papers, up to its limit, the earlier paper first among equal scores:
    (owner, row, score), owner by owner, best first. Scores are positive."""
    starts = np.cumsum(per_owner) - per_owner
    # Chunks hold at most CHUNK_CELLS cells, so owner and row bits fit beside the score's 32.
    row_bits = max(int(row.max(initial=0)).bit_length(), 1)
    # One sort of 64-bit keys: owner, then score descending (the bits of a positive float32
    # order like the float), then paper row; all three are read back from the kept keys.
    low, high = np.uint64(row_bits), np.uint64(32 + row_bits)
    keys = owner.astype(np.uint64) << high
    keys |= (score.view(np.uint32) ^ np.uint32(0xFFFFFFFF)).astype(np.uint64) << low
    keys |= row.astype(np.uint64)
    keys.sort()
    kept = keys[np.arange(len(keys)) < np.repeat(starts + limits, per_owner)]
    bits = ((kept >> low) & np.uint64(0xFFFFFFFF)).astype(np.uint32) ^ np.uint32(0xFFFFFFFF)
    return (
        (kept >> high).astype(np.int64),
        (kept & ((np.uint64(1) << low) - np.uint64(1))).astype(np.int64),
        bits.view(np.float32),
    )


def _popcount(values: np.ndarray) -> np.ndarray:
    """Set bits of each unsigned integer."""
    if hasattr(np, "bitwise_count"):  # numpy 2
        counted: np.ndarray = np.bitwise_count(values)
        return counted
    out = np.zeros(values.shape, dtype=np.uint8)
    for shift in range(values.dtype.itemsize * 8):
        out += ((values >> shift) & 1).astype(np.uint8)
    return out

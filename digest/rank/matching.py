"""Where each alert holds, and its score, for many alerts at once.

Every distinct query is taken apart once into groups of features (its clauses, then its
exclusions) and sorted by shape; each shape has its bulk method over the features' scores
(papers x features, from `PaperIndex.evaluate`), and answers papers x queries as CSC arrays:
an entry where the query holds, with the query's BM25F score there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from digest.rank.index import concat_ranges
from digest.rank.query import Feature, Query

# Query shapes, by how their matches are found.
SINGLE = 0  # one term: its feature's column is the answer
ANY = 1  # one clause of several terms, no exclusion (`a OR b`, a comma list)
ALL = 2  # clauses of one term each, maybe exclusions (`a b -c`)
NESTED = 3  # the rest (`a b OR c`, `a OR b -c`)

Columns = tuple[np.ndarray, np.ndarray, np.ndarray]  # CSC indptr, row indices, scores


@dataclass(frozen=True, slots=True)
class AlertPlan:
    """All alerts as arrays: each distinct query once, as groups over distinct features."""

    features: list[Feature]
    shape: np.ndarray  # per query: SINGLE, ANY, ALL or NESTED
    single: np.ndarray  # per query: its feature when SINGLE, else -1
    entry_ptr: np.ndarray  # per query: its (feature, group) entries, entry_ptr[q]:[q + 1]
    entry_feature: np.ndarray
    entry_group: np.ndarray  # clause number in the query; group `clauses[q]` is the exclusions
    clauses: np.ndarray  # per query: its clauses, all of which must hold
    alert_query: np.ndarray  # per alert, subscribers one after the other
    alert_flag: np.ndarray  # 1 << the alert's place among its subscriber's alerts
    alert_ptr: np.ndarray  # subscriber i's alerts are alert_ptr[i]:alert_ptr[i + 1]

    @classmethod
    def build(cls, everyone: Sequence[Query], counts: Sequence[int]) -> AlertPlan:
        """Number the features and queries of all alerts, `counts[i]` of them subscriber i's
        (comprehensions, then numpy: a Python loop per query or term costs seconds at 10^5
        subscribers; and no list or tuple per subscriber, query or term that outlives its
        line: hundreds of thousands of new containers set off full garbage collections)."""
        # Queries by object: parse_query hands out one object per distinct text (its cache);
        # hashing whole queries by value would cost more than the few repeats it would merge.
        by_object: dict[int, int] = {}
        alert_query = [by_object.setdefault(id(query), len(by_object)) for query in everyone]
        distinct = list(dict(zip(alert_query, everyone, strict=True)).values())
        group_sizes = np.asarray(
            [len(group) for query in distinct for group in (*query.clauses, query.excluded)],
            dtype=np.int64,
        )
        terms = [
            term.feature
            for query in distinct
            for group in (*query.clauses, query.excluded)
            for term in group
        ]
        numbers: dict[Feature, int] = {}  # by value: equal features of two queries are one
        entry_feature = np.asarray(
            [numbers.setdefault(feature, len(numbers)) for feature in terms], dtype=np.int64
        )
        groups = np.asarray([len(query.clauses) + 1 for query in distinct], dtype=np.int64)
        first_group = np.cumsum(groups) - groups
        entry_ptr = np.concatenate(([0], np.cumsum(group_sizes)[first_group + groups - 1]))
        place = np.arange(len(group_sizes)) - np.repeat(first_group, groups)
        clauses = groups - 1
        excluded = group_sizes[first_group + clauses]
        widest = np.maximum.reduceat(
            np.where(place < np.repeat(clauses, groups), group_sizes, 0), first_group
        )
        alone = (clauses == 1) & (widest == 1) & (excluded == 0)
        one_clause = (clauses == 1) & (excluded == 0)
        shape = np.where(
            alone, SINGLE, np.where(widest <= 1, ALL, np.where(one_clause, ANY, NESTED))
        )
        single = np.full(len(distinct), -1, dtype=np.int64)
        single[alone] = entry_feature[entry_ptr[:-1][alone]]
        per_subscriber = np.asarray(counts, dtype=np.int64)
        alert_ptr = np.concatenate(([0], np.cumsum(per_subscriber)))
        bit = np.arange(len(everyone)) - np.repeat(alert_ptr[:-1], per_subscriber)
        return cls(
            features=list(numbers),
            shape=shape.astype(np.int8),
            single=single,
            entry_ptr=entry_ptr,
            entry_feature=entry_feature,
            entry_group=np.repeat(place, group_sizes),
            clauses=clauses,
            alert_query=np.asarray(alert_query, dtype=np.int64),
            # The narrowest integer with a bit per alert: fewer bytes to scatter per match.
            alert_flag=np.left_shift(1, bit).astype(_mask_type(int(per_subscriber.max(initial=1)))),
            alert_ptr=alert_ptr,
        )

    def entries(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(query, feature, group) of the given queries' terms; query is the position in
        `queries`."""
        low = self.entry_ptr[queries]
        sizes = self.entry_ptr[queries + 1] - low
        at = concat_ranges(low, sizes)
        return (
            np.repeat(np.arange(len(queries)), sizes),
            self.entry_feature[at],
            self.entry_group[at],
        )


class AlertMatcher:
    """Papers x queries where each query holds, with its score, shape by shape."""

    def __init__(self, plan: AlertPlan, scores: sp.csc_matrix) -> None:
        """`scores` are the plan's features evaluated on the papers (papers x features)."""
        self.plan = plan
        self.scores = scores
        self.penalty = float(plan.clauses.max(initial=0)) + 1.0  # outweighs every clause
        self._table: np.ndarray | None = None

    def columns(self, shape: int, queries: np.ndarray) -> Columns:
        """CSC arrays (papers x the given distinct queries) for queries of one shape, ANY, ALL
        or NESTED (a SINGLE query's column is its feature's, in `scores`)."""
        if shape == ANY:
            return self._any(queries)
        if shape == ALL:
            return self._all(queries)
        return self._nested(queries)

    def _any(self, queries: np.ndarray) -> Columns:
        """One clause of several terms: one product; any present term matches, and the query
        scores the sum of those present."""
        query, feature, _ = self.plan.entries(queries)
        used, unit = np.unique(feature, return_inverse=True)
        folding = sp.csc_matrix(
            (np.ones(len(unit), dtype=np.float32), (unit, query)), shape=(len(used), len(queries))
        )
        held = (self.scores[:, used] @ folding).tocsc()
        return held.indptr, held.indices, held.data

    def _all(self, queries: np.ndarray) -> Columns:
        """Clauses of one term each: the papers of the query's rarest term are the candidates,
        and the other terms are looked up on them in a dense papers x features table (present
        and scored; or absent, if excluded)."""
        query, feature, group = self.plan.entries(queries)
        excluded = group == self.plan.clauses[queries][query]
        used, unit = np.unique(feature, return_inverse=True)
        present = self.scores[:, used]
        postings = np.diff(present.indptr)
        # The driver of each query: its positive term with the fewest papers.
        fewest = np.where(excluded, present.shape[0] + 1, postings[unit].astype(np.int64))
        order = np.lexsort((fewest, query))
        firsts = order[np.flatnonzero(np.diff(query[order], prepend=-1))]
        drivers = firsts[~excluded[firsts]]
        low = present.indptr[unit[drivers]]
        sizes = present.indptr[unit[drivers] + 1] - low
        at = concat_ranges(low, sizes)
        owner, row, score = np.repeat(query[drivers], sizes), present.indices[at], present.data[at]
        others = np.ones(len(query), dtype=bool)
        others[drivers] = False
        if others.any():
            # Term-major like the CSC arrays, and a last column left empty: "no term here".
            papers, width = present.shape
            table = self._zeroed(papers * (width + 1))
            cells = np.repeat(np.arange(width) * papers, postings) + present.indices
            table[cells] = present.data
            rest = np.flatnonzero(others)
            slot = np.arange(len(rest)) - np.searchsorted(query[rest], query[rest])
            alive = np.ones(len(row), dtype=bool)
            for place in range(int(slot.max()) + 1):  # slot j: each query's j-th other term
                mine = rest[slot == place]
                terms = np.full(len(queries), width, dtype=np.int64)
                terms[query[mine]] = unit[mine]
                banned = np.ones(len(queries), dtype=bool)  # the empty column must be empty
                banned[query[mine]] = excluded[mine]
                found = table[terms[owner] * papers + row]
                alive &= np.where(banned[owner], found == 0, found > 0)
                score = score + found  # where banned, found is 0 or the paper is dropped
            table[cells] = 0.0
            owner, row, score = owner[alive], row[alive], score[alive]
        indptr = np.concatenate(([0], np.cumsum(np.bincount(owner, minlength=len(queries)))))
        return indptr, row, score

    def _nested(self, queries: np.ndarray) -> Columns:
        """Two products: terms into clauses (a clause scores the sum of its present terms; the
        exclusions are one more clause), then clauses into queries, counting in the imaginary
        part (i per clause held, -penalty * i for an exclusion) next to the score in the real
        part, so a query holds exactly where the imaginary part is its number of clauses."""
        query, feature, group = self.plan.entries(queries)
        groups = self.plan.clauses[queries] + 1
        first = np.cumsum(groups) - groups
        used, unit = np.unique(feature, return_inverse=True)
        membership = sp.csc_matrix(
            (np.ones(len(unit), dtype=np.float32), (unit, first[query] + group)),
            shape=(len(used), int(groups.sum())),
        )
        clause = (self.scores[:, used] @ membership).tocsc()
        # Built from the arrays: sparse astype would first sort every column's indices.
        held = sp.csc_matrix(
            (clause.data.astype(np.complex64), clause.indices, clause.indptr), shape=clause.shape
        )
        excluding = np.zeros(len(held.indptr) - 1, dtype=bool)
        excluding[first + groups - 1] = True
        held.data[np.repeat(excluding, np.diff(held.indptr))] = 0.0  # exclusions never score
        held.data += np.complex64(1j)
        folding = sp.csc_matrix(
            (
                np.where(excluding, -self.penalty, 1.0).astype(np.float32),
                (np.arange(len(excluding)), np.repeat(np.arange(len(queries)), groups)),
            ),
            shape=(len(excluding), len(queries)),
        )
        matched = (held @ folding).tocsc()
        wanted = np.repeat(self.plan.clauses[queries].astype(np.float32), np.diff(matched.indptr))
        keep = matched.data.imag == wanted
        return (
            np.concatenate(([0], np.cumsum(keep)))[matched.indptr],
            matched.indices[keep],
            matched.data.real[keep],
        )

    def _zeroed(self, size: int) -> np.ndarray:
        """A zeroed float32 buffer of at least `size`, kept between calls (callers zero what
        they wrote), grown when needed."""
        if self._table is None or len(self._table) < size:
            self._table = np.zeros(size, dtype=np.float32)
        return self._table


def _mask_type(alerts: int) -> type[np.unsignedinteger[Any]]:
    """The narrowest unsigned integer with a bit per alert."""
    for kind in (np.uint8, np.uint16, np.uint32):
        if alerts <= np.iinfo(kind).bits:
            return kind
    return np.uint64

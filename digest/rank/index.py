"""The day's papers as sparse term matrices with BM25F weights, and feature evaluation.

A feature (a word, a phrase, a hyphen word's alternatives, optionally title-only) is
evaluated once per distinct feature over all papers, however many alerts contain it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from digest.rank.analyzer import tokenize
from digest.rank.query import Feature


@dataclass(frozen=True, slots=True)
class RankPaper:
    """What ranking needs of a paper."""

    id: int
    title: str
    abstract: str
    upvotes: int | None = None


@dataclass(frozen=True, slots=True)
class CorpusStats:
    """Archive-wide statistics, so that scores do not swing with the day's batch."""

    documents: int
    title_length: float  # average terms per title
    abstract_length: float
    df: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RankParams:
    """BM25F parameters and bonuses (from settings)."""

    k1: float = 1.2
    title_weight: float = 3.0
    abstract_weight: float = 1.0
    title_b: float = 0.3
    abstract_b: float = 0.75
    multi_alert_bonus: float = 0.25
    upvote_weight: float = 0.0


@dataclass(slots=True)
class _Positions:
    """term -> (first, next) word positions of each occurrence, per field, for phrase checks."""

    title: dict[str, list[tuple[int, int]]]
    abstract: dict[str, list[tuple[int, int]]]


class PaperIndex:
    """Sparse BM25F weights over a set of papers, and the evaluator of features on them."""

    def __init__(
        self,
        papers: Sequence[RankPaper],
        *,
        stats: CorpusStats | Callable[[Collection[str]], CorpusStats],
        params: RankParams,
    ) -> None:
        """Index `papers`; `stats` may be a function of the papers' vocabulary, so that only
        the document frequencies of terms that occur are fetched from the archive."""
        self.papers = list(papers)
        self.params = params
        self.vocab: dict[str, int] = {}
        self._positions: list[_Positions] = []
        title_counts: list[Counter[str]] = []
        abstract_counts: list[Counter[str]] = []
        for paper in self.papers:
            title_pos = _positions(paper.title)
            abstract_pos = _positions(paper.abstract)
            self._positions.append(_Positions(title_pos, abstract_pos))
            title_counts.append(Counter({t: len(p) for t, p in title_pos.items()}))
            abstract_counts.append(Counter({t: len(p) for t, p in abstract_pos.items()}))
            for term in title_pos.keys() | abstract_pos.keys():
                self.vocab.setdefault(term, len(self.vocab))
        count = len(self.papers)
        width = len(self.vocab) + 1  # the last column stays empty: terms not seen today
        self.missing = len(self.vocab)
        title_tf = _matrix(title_counts, self.vocab, count, width)
        abstract_tf = _matrix(abstract_counts, self.vocab, count, width)
        title_len = np.asarray(title_tf.sum(axis=1)).ravel()
        abstract_len = np.asarray(abstract_tf.sum(axis=1)).ravel()
        if callable(stats):
            stats = stats(self.vocab.keys())
        idf = self._idf(stats, title_tf, abstract_tf)
        title_part = _normalise(title_tf, title_len, stats.title_length, params.title_b)
        abstract_part = _normalise(
            abstract_tf, abstract_len, stats.abstract_length, params.abstract_b
        )
        combined = params.title_weight * title_part + params.abstract_weight * abstract_part
        self.any_weights = _saturate(combined, idf, params.k1).tocsc()
        self.title_weights = _saturate(params.title_weight * title_part, idf, params.k1).tocsc()

    def _idf(
        self, stats: CorpusStats, title_tf: sp.csr_matrix, abstract_tf: sp.csr_matrix
    ) -> np.ndarray:
        # Today's papers count too, in case the archive statistics predate them.
        present = ((title_tf + abstract_tf) > 0).astype(np.float64)
        today_df = np.asarray(present.sum(axis=0)).ravel()
        documents = max(stats.documents, len(self.papers))
        df = today_df.copy()
        for term, column in self.vocab.items():
            df[column] = max(df[column], stats.df.get(term, 0))
        idf: np.ndarray = np.log1p((documents - df + 0.5) / (df + 0.5))
        return idf

    def column(self, term: str) -> int:
        """The matrix column of a term (the empty column when the papers lack it)."""
        return self.vocab.get(term, self.missing)

    def evaluate(self, features: Sequence[Feature]) -> sp.csc_matrix:
        """Scores (P x F, sparse): nonzero exactly where a feature is present in a paper."""
        simple = [
            index
            for index, feature in enumerate(features)
            if not feature.title_only
            and len(feature.alternatives) == 1
            and len(feature.alternatives[0]) == 1
        ]
        simple_set = set(simple)
        complex_ = [index for index in range(len(features)) if index not in simple_set]
        blocks: list[sp.spmatrix] = []
        order: list[int] = []
        if simple:
            columns = [self.column(features[i].alternatives[0][0]) for i in simple]
            blocks.append(self.any_weights[:, columns])
            order.extend(simple)
        if complex_:
            blocks.append(sp.hstack([self._feature_column(features[i]) for i in complex_]))
            order.extend(complex_)
        if not blocks:
            return sp.csc_matrix((len(self.papers), 0), dtype=np.float32)
        stacked = sp.hstack(blocks).tocsc()
        inverse = np.empty(len(order), dtype=np.int64)
        inverse[np.asarray(order)] = np.arange(len(order))
        result: sp.csc_matrix = stacked[:, inverse].astype(np.float32)
        return result

    def _feature_column(self, feature: Feature) -> sp.csc_matrix:
        weights = self.title_weights if feature.title_only else self.any_weights
        best = np.zeros(len(self.papers), dtype=np.float64)
        for alternative in feature.alternatives:
            columns = [self.column(term) for term in alternative]
            block = weights[:, columns].toarray()
            present = (block > 0).all(axis=1)
            scores = np.where(present, block.sum(axis=1), 0.0)
            if len(alternative) > 1:
                for row in np.flatnonzero(present):
                    if not self._has_phrase(int(row), alternative, title_only=feature.title_only):
                        scores[row] = 0.0
            best = np.maximum(best, scores)
        return sp.csc_matrix(best.reshape(-1, 1))

    def _has_phrase(self, row: int, terms: Sequence[str], *, title_only: bool) -> bool:
        positions = self._positions[row]
        fields = (positions.title,) if title_only else (positions.title, positions.abstract)
        return any(_phrase_in(field_positions, terms) for field_positions in fields)


def _positions(text: str) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = {}
    for token in tokenize(text):
        out.setdefault(token.term, []).append((token.position, token.position + token.width))
    return out


def _phrase_in(positions: Mapping[str, list[tuple[int, int]]], terms: Sequence[str]) -> bool:
    # Each term must start where the previous one ends: `xray` of `x-ray` covers two positions,
    # so "chest xray images" is found in `chest x-ray images`.
    ends = {end for _, end in positions.get(terms[0], ())}
    for term in terms[1:]:
        ends = {end for start, end in positions.get(term, ()) if start in ends}
        if not ends:
            return False
    return bool(ends)


def _matrix(
    counts: list[Counter[str]], vocab: Mapping[str, int], rows: int, width: int
) -> sp.csr_matrix:
    indptr = [0]
    indices: list[int] = []
    data: list[float] = []
    for counter in counts:
        for term, value in counter.items():
            indices.append(vocab[term])
            data.append(value)
        indptr.append(len(indices))
    return sp.csr_matrix(
        (np.asarray(data, dtype=np.float64), np.asarray(indices, dtype=np.int64), indptr),
        shape=(rows, width),
    )


def _normalise(tf: sp.csr_matrix, lengths: np.ndarray, average: float, b: float) -> sp.csr_matrix:
    """tf / (1 - b + b * len / avglen), row by row."""
    average = average if average > 0 else max(float(lengths.mean()) if len(lengths) else 1.0, 1.0)
    factors = 1.0 / (1.0 - b + b * lengths / average)
    result: sp.csr_matrix = sp.diags(factors) @ tf
    return result.tocsr()


def _saturate(tf: sp.csr_matrix, idf: np.ndarray, k1: float) -> sp.csr_matrix:
    """idf * tf (k1 + 1) / (k1 + tf) on the nonzero entries only."""
    result = tf.copy().tocsr()
    columns = result.indices
    result.data = idf[columns] * result.data * (k1 + 1.0) / (k1 + result.data)
    return result


def idf_value(documents: int, df: int) -> float:
    """The BM25 idf used everywhere (exposed for explanations)."""
    return math.log1p((documents - df + 0.5) / (df + 0.5))

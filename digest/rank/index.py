"""The day's papers as sparse term matrices with BM25F weights, and feature evaluation.

A feature (a word, a phrase, a hyphen word's alternatives, optionally title-only) is
evaluated once per distinct feature over all papers, however many alerts contain it, and all
features at once: single terms are columns of the weight matrices; sequences (phrases, the
parts of `x-ray`) are looked up in an index of adjacent term pairs built from word positions,
so that a phrase is found only where its words stand in a row.
"""

from __future__ import annotations

import math
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
        self._title = _occurrences([paper.title for paper in self.papers], self.vocab)
        self._abstract = _occurrences([paper.abstract for paper in self.papers], self.vocab)
        self._phrases: dict[bool, _PhraseIndex] = {}
        count = len(self.papers)
        width = len(self.vocab) + 1  # the last column stays empty: terms not seen today
        self.missing = len(self.vocab)
        title_tf = self._title.tf(count, width)
        abstract_tf = self._abstract.tf(count, width)
        title_len = np.diff(self._title.row_ptr).astype(np.float64)
        abstract_len = np.diff(self._abstract.row_ptr).astype(np.float64)
        if callable(stats):
            stats = stats(self.vocab.keys())
        idf = self._idf(stats, title_tf, abstract_tf)
        title_part = _normalise(title_tf, title_len, stats.title_length, params.title_b)
        abstract_part = _normalise(
            abstract_tf, abstract_len, stats.abstract_length, params.abstract_b
        )
        combined = params.title_weight * title_part + params.abstract_weight * abstract_part
        any_weights = _saturate(combined, idf, params.k1)
        title_weights = _saturate(params.title_weight * title_part, idf, params.k1)
        self.any_weights = any_weights.tocsc()
        self.title_weights = title_weights.tocsc()
        # Row-major copies: a phrase's score is looked up at the (paper, term) cells it holds.
        any_weights.sort_indices()
        title_weights.sort_indices()
        self._rows = {False: any_weights, True: title_weights}

    def _idf(
        self, stats: CorpusStats, title_tf: sp.csr_matrix, abstract_tf: sp.csr_matrix
    ) -> np.ndarray:
        # Today's papers count too, in case the archive statistics predate them.
        present = ((title_tf + abstract_tf) > 0).astype(np.float64)
        today_df = np.asarray(present.sum(axis=0)).ravel()
        documents = max(stats.documents, len(self.papers))
        archive = np.zeros_like(today_df)
        archive[: len(self.vocab)] = [stats.df.get(term, 0) for term in self.vocab]
        df = np.maximum(today_df, archive)
        idf: np.ndarray = np.log1p((documents - df + 0.5) / (df + 0.5))
        return idf

    def column(self, term: str) -> int:
        """The matrix column of a term (the empty column when the papers lack it)."""
        return self.vocab.get(term, self.missing)

    def evaluate(self, features: Sequence[Feature]) -> sp.csc_matrix:
        """Scores (P x F, sparse): nonzero exactly where a feature is present in a paper.

        A feature scores the best of its alternatives; an alternative the sum of its terms'
        weights where all of them occur, in a row for a sequence. All features are evaluated
        together: single terms are weight columns, sequences come from the phrase index.
        """
        count = len(self.papers)
        singles: dict[bool, tuple[list[int], list[int]]] = {False: ([], []), True: ([], [])}
        sequences: list[tuple[int, tuple[int, ...], bool]] = []
        several = np.zeros(len(features), dtype=bool)  # alternatives may overlap: keep the best
        for number, feature in enumerate(features):
            several[number] = len(feature.alternatives) > 1
            for alternative in feature.alternatives:
                if len(alternative) == 1:
                    owners, columns = singles[feature.title_only]
                    owners.append(number)
                    columns.append(self.column(alternative[0]))
                    continue
                ids = tuple(self.vocab.get(term, -1) for term in alternative)
                if min(ids) >= 0:  # else no paper holds the sequence
                    sequences.append((number, ids, feature.title_only))
        rows: list[np.ndarray] = []
        owners_of: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for title_only, (owners, columns) in singles.items():
            if owners:
                weights = self.title_weights if title_only else self.any_weights
                block = weights[:, columns]
                rows.append(block.indices)
                owners_of.append(np.repeat(np.asarray(owners), np.diff(block.indptr)))
                values.append(block.data)
        if sequences:
            found = self._sequence_scores(sequences)
            rows.append(found[0])
            owners_of.append(found[1])
            values.append(found[2])
        if not rows:
            return sp.csc_matrix((count, len(features)), dtype=np.float32)
        row = np.concatenate(rows)
        owner = np.concatenate(owners_of)
        value = np.concatenate(values)
        if several.any():
            row, owner, value = _best_per_cell(row, owner, value, several, count)
        return sp.csc_matrix((value.astype(np.float32), (row, owner)), shape=(count, len(features)))

    def _sequence_scores(
        self, sequences: Sequence[tuple[int, tuple[int, ...], bool]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, owners, scores) of every sequence found with its terms one after the other.

        Word positions decide, as for a phrase typed in quotes: `x ray images` is not found in
        "ray images of an x"; each term must start where the previous one ends.
        """
        count = len(self.papers)
        title_only = np.asarray([t for _, _, t in sequences], dtype=bool)
        lengths = np.asarray([len(ids) for _, ids, _ in sequences], dtype=np.int64)
        table = np.full((len(sequences), int(lengths.max())), -1, dtype=np.int64)
        for number, (_, ids, _) in enumerate(sequences):
            table[number, : len(ids)] = ids
        found_seq: list[np.ndarray] = []
        found_row: list[np.ndarray] = []
        for in_title in (True, False):
            chosen = np.arange(len(sequences)) if in_title else np.flatnonzero(~title_only)
            seq, row = self._phrase_index(in_title).find(table, lengths, chosen)
            found_seq.append(seq)
            found_row.append(row)
        cells = np.unique(np.concatenate(found_seq) * count + np.concatenate(found_row))
        seq, row = np.divmod(cells, max(count, 1))
        scores = np.zeros(len(seq), dtype=np.float64)
        for place in range(table.shape[1]):
            # Summed term by term, in order, as the weights of an alternative always were.
            holds = np.flatnonzero(lengths[seq] > place)
            for flag in (True, False):
                mine = holds[title_only[seq[holds]] == flag]
                if len(mine):
                    cells_of = self._rows[flag][row[mine], table[seq[mine], place]]
                    scores[mine] += np.asarray(cells_of).ravel()
        owners = np.asarray([number for number, _, _ in sequences], dtype=np.int64)
        return row, owners[seq], scores

    def _phrase_index(self, in_title: bool) -> _PhraseIndex:
        """One field's positions arranged for sequence lookups, built on first use."""
        if in_title not in self._phrases:
            occurrences = self._title if in_title else self._abstract
            self._phrases[in_title] = _PhraseIndex.build(occurrences, len(self.vocab) + 1)
        return self._phrases[in_title]


@dataclass(frozen=True, slots=True)
class _Occurrences:
    """Every term occurrence of one field, paper after paper: term column and word span."""

    terms: np.ndarray
    starts: np.ndarray  # first word position
    ends: np.ndarray  # the position after it: a joined `xray` of `x-ray` covers two
    row_ptr: np.ndarray  # paper r's occurrences are row_ptr[r]:row_ptr[r + 1]

    def rows(self) -> np.ndarray:
        """The paper row of each occurrence."""
        return np.repeat(np.arange(len(self.row_ptr) - 1), np.diff(self.row_ptr))

    def tf(self, count: int, width: int) -> sp.csr_matrix:
        """Term frequencies, papers x term columns."""
        ones = np.ones(len(self.terms), dtype=np.float64)
        return sp.csr_matrix((ones, (self.rows(), self.terms)), shape=(count, width))


@dataclass(frozen=True, slots=True)
class _PhraseIndex:
    """One field's occurrences sorted two ways: adjacent term pairs, and term then place."""

    pair_codes: np.ndarray  # first * width + second, sorted, for each adjacent pair
    pair_rows: np.ndarray
    pair_ends: np.ndarray  # where the pair's second occurrence ends
    place_codes: np.ndarray  # (term * papers + row) * span + start, sorted
    place_ends: np.ndarray
    width: int  # term columns, the multiplier of pair codes
    papers: int
    span: int  # more than any word position

    @classmethod
    def build(cls, occurrences: _Occurrences, width: int) -> _PhraseIndex:
        """Sort one field's occurrences for lookups (a few sorts of the day's tokens)."""
        rows = occurrences.rows()
        papers = len(occurrences.row_ptr) - 1
        span = int(occurrences.ends.max()) + 1 if len(occurrences.ends) else 1
        begins = rows * span + occurrences.starts
        order = np.argsort(begins, kind="stable")
        follow = rows * span + occurrences.ends
        low = np.searchsorted(begins[order], follow, side="left")
        high = np.searchsorted(begins[order], follow, side="right")
        first = np.repeat(np.arange(len(follow)), high - low)
        second = order[concat_ranges(low, high - low)]
        codes = occurrences.terms[first] * np.int64(width) + occurrences.terms[second]
        by_code = np.argsort(codes, kind="stable")
        places = (occurrences.terms * papers + rows) * span + occurrences.starts
        by_place = np.argsort(places, kind="stable")
        return cls(
            pair_codes=codes[by_code],
            pair_rows=rows[first][by_code],
            pair_ends=occurrences.ends[second][by_code],
            place_codes=places[by_place],
            place_ends=occurrences.ends[by_place],
            width=width,
            papers=papers,
            span=span,
        )

    def find(
        self, table: np.ndarray, lengths: np.ndarray, chosen: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(sequence, row) for every place where a chosen sequence (a row of term columns in
        `table`) occurs: its first two terms as an adjacent pair, then each next term starting
        where the one before ends."""
        wanted = table[chosen, 0] * np.int64(self.width) + table[chosen, 1]
        low = np.searchsorted(self.pair_codes, wanted, side="left")
        high = np.searchsorted(self.pair_codes, wanted, side="right")
        at = concat_ranges(low, high - low)
        seq = np.repeat(chosen, high - low)
        row, end = self.pair_rows[at], self.pair_ends[at]
        done_seq, done_row = [], []
        place = 2
        while len(seq):
            finished = lengths[seq] == place
            done_seq.append(seq[finished])
            done_row.append(row[finished])
            seq, row, end = seq[~finished], row[~finished], end[~finished]
            if not len(seq):
                break
            key = (table[seq, place] * self.papers + row) * self.span + end
            low = np.searchsorted(self.place_codes, key, side="left")
            high = np.searchsorted(self.place_codes, key, side="right")
            at = concat_ranges(low, high - low)
            seq, row = np.repeat(seq, high - low), np.repeat(row, high - low)
            end = self.place_ends[at]
            place += 1
        if not done_seq:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(done_seq), np.concatenate(done_row)


def _occurrences(texts: Sequence[str], vocab: dict[str, int]) -> _Occurrences:
    """Tokenize texts once; new terms get the next column of `vocab`."""
    terms: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    counts = [0]
    add = vocab.setdefault
    for text in texts:
        tokens = tokenize(text)
        terms.extend([add(token.term, len(vocab)) for token in tokens])
        starts.extend([token.position for token in tokens])
        ends.extend([token.position + token.width for token in tokens])
        counts.append(len(tokens))
    return _Occurrences(
        terms=np.asarray(terms, dtype=np.int64),
        starts=np.asarray(starts, dtype=np.int64),
        ends=np.asarray(ends, dtype=np.int64),
        row_ptr=np.cumsum(counts),
    )


def concat_ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """arange(start, start + length) for each pair, concatenated, without a Python loop: the
    positions of many CSC columns' or posting lists' entries at once."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    result: np.ndarray = offsets + np.arange(total)
    return result


def _best_per_cell(
    row: np.ndarray, owner: np.ndarray, value: np.ndarray, several: np.ndarray, count: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where a feature's alternatives both hold in a paper, keep the best score."""
    mixed = several[owner]
    if not mixed.any():
        return row, owner, value
    code = owner[mixed] * count + row[mixed]
    order = np.argsort(code, kind="stable")
    code, best = code[order], value[mixed][order]
    starts = np.flatnonzero(np.concatenate(([True], code[1:] != code[:-1])))
    best = np.maximum.reduceat(best, starts)
    kept_owner, kept_row = np.divmod(code[starts], count)
    return (
        np.concatenate((row[~mixed], kept_row)),
        np.concatenate((owner[~mixed], kept_owner)),
        np.concatenate((value[~mixed], best)),
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

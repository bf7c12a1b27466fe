"""A plain-Python ranker to hold the vectorized one to: the same BM25F, the same boolean
logic, one subscriber, paper and term at a time, in float64. Written from the documented
rules (score.py, index.py docstrings), not from the matrix code."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from digest.rank.analyzer import Token, tokenize
from digest.rank.index import CorpusStats, RankPaper, RankParams
from digest.rank.query import Feature, Query
from digest.rank.score import SubscriberSpec


@dataclass(frozen=True)
class Expected:
    """One (subscriber, paper) match as the reference ranks it."""

    paper_row: int
    score: float
    alert_ids: tuple[int, ...]


class ReferenceRanker:
    """BM25F over title and abstract with archive statistics, evaluated term by term."""

    def __init__(
        self, papers: Sequence[RankPaper], *, stats: CorpusStats, params: RankParams
    ) -> None:
        self.papers = list(papers)
        self.params = params
        self.tokens = [(tokenize(p.title), tokenize(p.abstract)) for p in self.papers]
        self.title_tf = [Counter(t.term for t in title) for title, _ in self.tokens]
        self.abstract_tf = [Counter(t.term for t in abstract) for _, abstract in self.tokens]
        today_df: Counter[str] = Counter()
        for title, abstract in zip(self.title_tf, self.abstract_tf, strict=True):
            today_df.update(set(title) | set(abstract))
        self.today_df = today_df
        self.stats = stats
        self.documents = max(stats.documents, len(self.papers))
        title_lengths = [sum(c.values()) for c in self.title_tf]
        abstract_lengths = [sum(c.values()) for c in self.abstract_tf]
        self.title_norm = _norms(title_lengths, stats.title_length, params.title_b)
        self.abstract_norm = _norms(abstract_lengths, stats.abstract_length, params.abstract_b)

    def idf(self, term: str) -> float:
        """BM25 idf from the archive's df (or today's, if the archive has fewer)."""
        df = max(self.today_df.get(term, 0), self.stats.df.get(term, 0))
        return math.log1p((self.documents - df + 0.5) / (df + 0.5))

    def weight(self, row: int, term: str, *, title_only: bool) -> float:
        """A term's BM25F weight in a paper: fields' normalised tf combined, then saturated."""
        p = self.params
        tf = p.title_weight * self.title_tf[row][term] / self.title_norm[row]
        if not title_only:
            tf += p.abstract_weight * self.abstract_tf[row][term] / self.abstract_norm[row]
        if tf == 0:
            return 0.0
        return self.idf(term) * tf * (p.k1 + 1) / (p.k1 + tf)

    def feature(self, row: int, feature: Feature) -> float:
        """The best alternative: all its terms present (in a row, for a sequence)."""
        best = 0.0
        title, abstract = self.tokens[row]
        fields = (title,) if feature.title_only else (title, abstract)
        for alternative in feature.alternatives:
            weights = [self.weight(row, t, title_only=feature.title_only) for t in alternative]
            if not all(w > 0 for w in weights):
                continue
            if len(alternative) > 1 and not any(_in_row(f, alternative) for f in fields):
                continue
            best = max(best, sum(weights))
        return best

    def alert(self, row: int, query: Query) -> float:
        """An alert's score on a paper: 0 unless every clause holds and no exclusion does."""
        if any(self.feature(row, term.feature) > 0 for term in query.excluded):
            return 0.0
        for clause in query.clauses:
            if not any(self.feature(row, term.feature) > 0 for term in clause):
                return 0.0
        return sum(self.feature(row, term.feature) for term in query.terms())

    def rank(self, spec: SubscriberSpec) -> list[Expected]:
        """A subscriber's papers: best alert times the bonus, plus upvotes; cut, best first."""
        p = self.params
        found = []
        for row in range(spec.first_paper, len(self.papers)):
            scores = [(alert.id, self.alert(row, alert.query)) for alert in spec.alerts]
            matched = tuple(alert_id for alert_id, score in scores if score > 0)
            if not matched:
                continue
            best = max(score for _, score in scores)
            final = best * (1 + p.multi_alert_bonus * (len(matched) - 1))
            final += p.upvote_weight * math.log1p(self.papers[row].upvotes or 0)
            found.append(Expected(row, final, matched))
        found.sort(key=lambda e: (-e.score, e.paper_row))
        return found[: spec.max_papers]


def _norms(lengths: list[int], average: float, b: float) -> list[float]:
    if average <= 0:  # no archive yet: today's mean length
        average = max(sum(lengths) / len(lengths), 1.0) if lengths else 1.0
    return [1 - b + b * length / average for length in lengths]


def _in_row(tokens: Sequence[Token], terms: Sequence[str]) -> bool:
    """Whether the terms occur one after the other (a joined `xray` spans its two words)."""

    def follows(index: int, position: int) -> bool:
        if index == len(terms):
            return True
        return any(
            follows(index + 1, t.position + t.width)
            for t in tokens
            if t.term == terms[index] and t.position == position
        )

    return any(follows(1, t.position + t.width) for t in tokens if t.term == terms[0])

"""Archive term statistics, counted with the same analyzer that ranks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from digest.rank.analyzer import terms
from digest.rank.index import CorpusStats


@dataclass(slots=True)
class TermCounts:
    """Document frequencies and lengths of a batch of papers, to add to the archive's."""

    documents: int = 0
    title_terms: int = 0
    abstract_terms: int = 0
    df: Counter[str] = field(default_factory=Counter)


def count_terms(papers: Iterable[tuple[str, str]]) -> TermCounts:
    """Count (title, abstract) pairs: each term once per paper, lengths in terms."""
    counts = TermCounts()
    for title, abstract in papers:
        title_terms = terms(title)
        abstract_terms = terms(abstract)
        counts.documents += 1
        counts.title_terms += len(title_terms)
        counts.abstract_terms += len(abstract_terms)
        counts.df.update(set(title_terms) | set(abstract_terms))
    return counts


def corpus_stats(
    *, documents: int, title_terms: int, abstract_terms: int, df: Mapping[str, int]
) -> CorpusStats:
    """Averages for BM25 from the archive's totals."""
    return CorpusStats(
        documents=documents,
        title_length=title_terms / documents if documents else 0.0,
        abstract_length=abstract_terms / documents if documents else 0.0,
        df=df,
    )

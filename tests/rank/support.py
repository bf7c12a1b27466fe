"""Small builders for the ranking tests: an index over a few texts, and what a query matches."""

from __future__ import annotations

from collections.abc import Sequence

from digest.rank.index import CorpusStats, PaperIndex, RankPaper, RankParams
from digest.rank.query import parse_query
from digest.rank.search import search


def make_index(
    papers: Sequence[tuple[str, str]] | Sequence[RankPaper],
    *,
    params: RankParams | None = None,
    documents: int = 1000,
) -> PaperIndex:
    """An index of (title, abstract) pairs (paper ids are their rows) over a large archive
    that knows none of their terms, so that every term weighs about the same."""
    rank_papers = [
        paper
        if isinstance(paper, RankPaper)
        else RankPaper(id=row, title=paper[0], abstract=paper[1])
        for row, paper in enumerate(papers)
    ]
    stats = CorpusStats(documents=documents, title_length=8.0, abstract_length=120.0)
    return PaperIndex(rank_papers, stats=stats, params=params or RankParams())


def matching(query: str, texts: Sequence[str], *, field: str = "abstract") -> list[int]:
    """Rows of `texts` (as abstracts, or titles) that `query` matches, in row order."""
    pairs = [(text, "") if field == "title" else ("", text) for text in texts]
    hits = search(parse_query(query), make_index(pairs), limit=len(texts))
    return sorted(hit.paper.id for hit in hits)


def matches(query: str, text: str, *, field: str = "abstract") -> bool:
    """Whether `query` matches one paper whose title or abstract is `text`."""
    return matching(query, [text], field=field) == [0]

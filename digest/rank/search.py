"""Rank papers for one query: the CLI `search`, the web preview and search feeds use this."""

from __future__ import annotations

from dataclasses import dataclass

from digest.rank.explain import Explanation, explain
from digest.rank.index import PaperIndex, RankPaper
from digest.rank.query import Query
from digest.rank.score import AlertSpec, SubscriberSpec, rank_subscribers

_SEARCHER = 0  # the pseudo-subscriber a lone query ranks for


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A paper that matches a query, its score and why."""

    paper: RankPaper
    score: float
    explanation: Explanation


def search(query: Query, index: PaperIndex, *, limit: int) -> list[SearchHit]:
    """The best `limit` papers of the index for a query, best first, explained."""
    spec = SubscriberSpec(
        id=_SEARCHER, alerts=(AlertSpec(id=0, query=query),), max_papers=max(limit, 0)
    )
    result = rank_subscribers([spec], index)
    return [
        SearchHit(
            paper=match.paper,
            score=match.score,
            explanation=explain(
                [(0, query)], title=match.paper.title, abstract=match.paper.abstract
            ),
        )
        for match in result.for_subscriber(_SEARCHER)
    ]

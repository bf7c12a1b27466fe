"""Trending: what to send someone with no alerts, or whose alerts matched nothing."""

from __future__ import annotations

from collections.abc import Sequence

from digest.rank.index import RankPaper


def top_trending(papers: Sequence[RankPaper], *, limit: int, first: int = 0) -> list[RankPaper]:
    """The most upvoted papers from row `first` on; listing order breaks ties (and rules when
    no source gave upvotes)."""
    window = list(enumerate(papers))[first:]
    window.sort(key=lambda item: (-(item[1].upvotes or 0), item[0]))
    return [paper for _, paper in window[:limit]]

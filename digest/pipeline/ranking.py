"""Ranking against the store: archive statistics, the paper index, search and alerts."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from digest.config import Settings
from digest.models import StoredPaper, SubscriberInfo
from digest.rank.analyzer import ANALYZER_VERSION
from digest.rank.explain import Explanation
from digest.rank.index import CorpusStats, PaperIndex, RankPaper, RankParams
from digest.rank.query import Query, parse_query
from digest.rank.score import AlertSpec, SubscriberSpec
from digest.rank.search import search
from digest.rank.stats import corpus_stats, count_terms
from digest.store import papers
from digest.store import terms as term_stats
from digest.store.db import reading, transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SearchResult:
    """A stored paper that matches a query, with its score and explanation."""

    paper: StoredPaper
    score: float
    explanation: Explanation


def rank_params(settings: Settings) -> RankParams:
    """The ranking parameters the settings choose."""
    return RankParams(
        title_weight=settings.rank_title_weight,
        multi_alert_bonus=settings.rank_multi_alert_bonus,
        upvote_weight=settings.rank_upvote_weight,
    )


def ensure_term_stats(engine: Engine) -> bool:
    """Recompute the archive's term statistics if they lag the papers or the analyzer."""
    with transaction(engine) as session:
        corpus = term_stats.corpus(session)
        total = papers.count_papers(session)
        if corpus is not None and corpus.documents == total and corpus.analyzer == ANALYZER_VERSION:
            return False
        term_stats.reset(session)
        for batch in papers.iter_texts(session):
            counts = count_terms(batch)
            term_stats.add_counts(
                session,
                counts.df,
                documents=counts.documents,
                title_terms=counts.title_terms,
                abstract_terms=counts.abstract_terms,
                analyzer=ANALYZER_VERSION,
            )
        log.info("rank: term statistics recomputed for %d papers", total)
        return True


def archive_stats(session: Session) -> Callable[[Collection[str]], CorpusStats]:
    """The archive's statistics for a vocabulary: only the terms that occur are fetched."""

    def stats_for(vocabulary: Collection[str]) -> CorpusStats:
        corpus = term_stats.corpus(session)
        return corpus_stats(
            documents=corpus.documents if corpus else 0,
            title_terms=corpus.title_terms if corpus else 0,
            abstract_terms=corpus.abstract_terms if corpus else 0,
            df=term_stats.document_frequencies(session, vocabulary),
        )

    return stats_for


def build_index(
    session: Session, stored: Sequence[StoredPaper], *, settings: Settings
) -> PaperIndex:
    """Index stored papers with the archive's statistics."""
    return PaperIndex(
        [to_rank_paper(paper) for paper in stored],
        stats=archive_stats(session),
        params=rank_params(settings),
    )


def to_rank_paper(paper: StoredPaper) -> RankPaper:
    """What ranking needs of a stored paper."""
    return RankPaper(id=paper.id, title=paper.title, abstract=paper.abstract, upvotes=paper.upvotes)


def search_archive(
    engine: Engine,
    query_text: str,
    *,
    settings: Settings,
    since: datetime | None = None,
    limit: int = 20,
) -> list[SearchResult]:
    """Rank stored papers (first seen since `since`) for a query; raises QueryError."""
    query = parse_query(query_text)
    ensure_term_stats(engine)
    with reading(engine) as session:
        stored = papers.papers_since(session, since=since)
        index = build_index(session, stored, settings=settings)
    by_id = {paper.id: paper for paper in stored}
    return [
        SearchResult(paper=by_id[hit.paper.id], score=hit.score, explanation=hit.explanation)
        for hit in search(query, index, limit=limit)
    ]


def subscriber_spec(subscriber: SubscriberInfo, *, first_paper: int = 0) -> SubscriberSpec:
    """A subscriber as ranking sees them; alerts that no longer parse are left out."""
    alerts = []
    for alert in subscriber.alerts:
        query = parsed_query(alert.query)
        if query is not None:
            alerts.append(AlertSpec(id=alert.id, query=query))
    return SubscriberSpec(
        id=subscriber.id,
        alerts=tuple(alerts),
        max_papers=subscriber.max_papers,
        first_paper=first_paper,
    )


def parsed_query(text: str) -> Query | None:
    """A stored alert's query, or None (logged) if the language no longer accepts it."""
    try:
        return parse_query(text)
    except Exception as exc:  # stored before a stricter parser: skip, do not stop the run
        log.warning("rank: alert %r skipped: %s", text, exc)
        return None

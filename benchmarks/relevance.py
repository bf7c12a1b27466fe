"""Relevance of digest's alert ranking on the team's judged set, next to a substring baseline.

Run `.venv/bin/python benchmarks/relevance.py` (about a second). The 313 distinct papers of the
sample dumps (tests/data/dumps/, parsed with digest.ingest and deduplicated by title_key) are
ranked for the eight alerts of tests/data/judgments/alerts.json in two ways:

- digest: the product's own ranking, `rank_subscribers` over a `PaperIndex` of the 313 papers,
  one subscriber per alert, archive statistics computed from the same papers with the product's
  analyzer. Nothing here scores or matches; it only reads what the rank code returns.
- substring: a plain keyword alert as arXiv-style services do it: a paper matches when any of
  the alert's lowercase substrings occurs in its title or abstract, ordered by how many times
  they occur (document order breaks ties).

Metrics, per alert and as the mean over alerts, against tests/data/judgments/qrels.json:
nDCG@10 with graded gains (judgment 0, 1, 2 as the gain, log2 discount, ideal ranking from all
judgments of the alert); precision, recall and F1 of the papers a daily digest would send, that
is the method's matches cut to DIGEST_MAX papers, where a paper counts as relevant when its
judgment is >= RELEVANT_FROM (partly relevant included). An empty digest has precision 0.
tests/test_relevance.py imports `evaluate` from here, so the figures have one definition.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from digest.ingest.decode import decode_bytes
from digest.ingest.detect import parse_listing
from digest.ingest.identity import title_key
from digest.rank.analyzer import tokenize
from digest.rank.index import CorpusStats, PaperIndex, RankPaper, RankParams
from digest.rank.query import parse_query
from digest.rank.score import AlertSpec, SubscriberSpec, rank_subscribers

ROOT = Path(__file__).resolve().parent.parent
DUMPS = ROOT / "tests" / "data" / "dumps"
JUDGMENTS = ROOT / "tests" / "data" / "judgments"
LISTING_DAY = date(2026, 11, 24)  # only resolves year-less dates; ranking ignores it
DIGEST_MAX = 20  # papers per alert in a daily digest (SubscriberSpec's default)
NDCG_DEPTH = 10
RELEVANT_FROM = 1  # judgments are 0 (not), 1 (partly), 2 (relevant)
METHODS = ("substring", "digest")


@dataclass(frozen=True, slots=True)
class Paper:
    """One distinct sample paper."""

    key: str  # digest.ingest.identity.title_key of its title
    title: str
    abstract: str
    upvotes: int | None


@dataclass(frozen=True, slots=True)
class Alert:
    """A judged alert: digest's query and the substrings a plain keyword alert would use."""

    id: str
    query: str
    keywords: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Scores:
    """One method's figures for one alert (or their mean over alerts)."""

    ndcg: float
    precision: float
    recall: float
    f1: float
    matched: float  # papers the method matches before the digest cut
    sent: float  # papers the digest would send
    recall_all: float  # recall of every match, before the cut (what the vocabulary allows)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Scores per method and alert, their means, and the number of relevant papers per alert."""

    alerts: tuple[Alert, ...]
    per_alert: Mapping[str, Mapping[str, Scores]]  # method -> alert id -> scores
    mean: Mapping[str, Scores]  # method -> mean over alerts
    relevant: Mapping[str, int]  # alert id -> papers judged >= RELEVANT_FROM


def load_papers(dumps: Path = DUMPS) -> list[Paper]:
    """The distinct papers of the sample dumps, in file-name then listing order."""
    papers: dict[str, Paper] = {}
    for path in sorted(dumps.glob("*.txt")):
        decoded = decode_bytes(path.read_bytes(), source=path.name, max_bytes=50_000_000)
        listing = parse_listing(decoded, source=path.name, today=LISTING_DAY)
        for parsed in listing.papers:
            key = title_key(parsed.title)
            if key not in papers:
                papers[key] = Paper(key, parsed.title, parsed.abstract, parsed.upvotes)
    return list(papers.values())


def load_alerts(folder: Path = JUDGMENTS) -> tuple[Alert, ...]:
    """The judged alerts, in file order."""
    data = json.loads((folder / "alerts.json").read_text(encoding="utf-8"))
    return tuple(
        Alert(id=item["id"], query=item["query"], keywords=tuple(item["baseline_keywords"]))
        for item in data["alerts"]
    )


def load_qrels(folder: Path = JUDGMENTS) -> dict[str, dict[str, int]]:
    """alert id -> paper title_key -> judgment (0, 1 or 2)."""
    data: dict[str, dict[str, int]] = json.loads(
        (folder / "qrels.json").read_text(encoding="utf-8")
    )
    return data


def corpus_stats(papers: Sequence[Paper]) -> CorpusStats:
    """Archive statistics of the papers, counted with the product's analyzer."""
    df: dict[str, int] = {}
    title_terms = abstract_terms = 0
    for paper in papers:
        title = [token.term for token in tokenize(paper.title)]
        abstract = [token.term for token in tokenize(paper.abstract)]
        title_terms += len(title)
        abstract_terms += len(abstract)
        for term in set(title) | set(abstract):
            df[term] = df.get(term, 0) + 1
    count = max(len(papers), 1)
    return CorpusStats(
        documents=len(papers),
        title_length=title_terms / count,
        abstract_length=abstract_terms / count,
        df=df,
    )


def digest_rankings(
    alerts: Sequence[Alert], papers: Sequence[Paper], *, limit: int = DIGEST_MAX
) -> dict[str, list[str]]:
    """What digest sends per alert, best first: one subscriber per alert, product defaults."""
    rank_papers = [
        RankPaper(id=row, title=p.title, abstract=p.abstract, upvotes=p.upvotes)
        for row, p in enumerate(papers)
    ]
    index = PaperIndex(rank_papers, stats=corpus_stats(papers), params=RankParams())
    subscribers = [
        SubscriberSpec(
            id=number,
            alerts=(AlertSpec(id=number, query=parse_query(alert.query)),),
            max_papers=limit,
        )
        for number, alert in enumerate(alerts)
    ]
    result = rank_subscribers(subscribers, index)
    return {
        alert.id: [papers[match.paper.id].key for match in result.for_subscriber(number)]
        for number, alert in enumerate(alerts)
    }


def substring_rankings(
    alerts: Sequence[Alert], papers: Sequence[Paper], *, limit: int = DIGEST_MAX
) -> dict[str, list[str]]:
    """A plain keyword alert: any substring in title or abstract, most occurrences first."""
    texts = [f"{p.title}\n{p.abstract}".lower() for p in papers]
    rankings: dict[str, list[str]] = {}
    for alert in alerts:
        hits = [sum(text.count(word) for word in alert.keywords) for text in texts]
        rows = sorted((row for row, count in enumerate(hits) if count), key=lambda r: -hits[r])
        rankings[alert.id] = [papers[row].key for row in rows[:limit]]
    return rankings


def ndcg(ranking: Sequence[str], grades: Mapping[str, int], *, depth: int = NDCG_DEPTH) -> float:
    """nDCG@depth with the judgment as the gain; 0 when nothing is relevant."""
    dcg = sum(grades.get(key, 0) / math.log2(rank + 2) for rank, key in enumerate(ranking[:depth]))
    ideal = sorted(grades.values(), reverse=True)[:depth]
    best = sum(gain / math.log2(rank + 2) for rank, gain in enumerate(ideal))
    return dcg / best if best > 0 else 0.0


def set_scores(sent: Sequence[str], grades: Mapping[str, int]) -> tuple[float, float, float]:
    """Precision, recall and F1 of a sent set, relevant meaning a judgment >= RELEVANT_FROM."""
    relevant = {key for key, grade in grades.items() if grade >= RELEVANT_FROM}
    hits = sum(1 for key in sent if key in relevant)
    precision = hits / len(sent) if sent else 0.0
    recall = hits / len(relevant) if relevant else 0.0
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return precision, recall, f1


def evaluate() -> Evaluation:
    """Rank the judged set both ways and score each method per alert and on average."""
    papers = load_papers()
    alerts = load_alerts()
    qrels = load_qrels()
    _check_judged(alerts, papers, qrels)
    sent = {
        "substring": substring_rankings(alerts, papers),
        "digest": digest_rankings(alerts, papers),
    }
    # Every match, before the cut: the same rankings with room for every paper.
    everything = {
        "substring": substring_rankings(alerts, papers, limit=len(papers)),
        "digest": digest_rankings(alerts, papers, limit=len(papers)),
    }
    per_alert: dict[str, dict[str, Scores]] = {}
    for method in METHODS:
        per_alert[method] = {}
        for alert in alerts:
            ranking, grades = sent[method][alert.id], qrels[alert.id]
            precision, recall, f1 = set_scores(ranking, grades)
            matched = everything[method][alert.id]
            per_alert[method][alert.id] = Scores(
                ndcg=ndcg(ranking, grades),
                precision=precision,
                recall=recall,
                f1=f1,
                matched=float(len(matched)),
                sent=float(len(ranking)),
                recall_all=set_scores(matched, grades)[1],
            )
    mean = {method: _mean(list(per_alert[method].values())) for method in METHODS}
    relevant = {
        alert.id: sum(1 for grade in qrels[alert.id].values() if grade >= RELEVANT_FROM)
        for alert in alerts
    }
    return Evaluation(alerts=alerts, per_alert=per_alert, mean=mean, relevant=relevant)


def _check_judged(
    alerts: Sequence[Alert], papers: Sequence[Paper], qrels: Mapping[str, Mapping[str, int]]
) -> None:
    keys = {paper.key for paper in papers}
    for alert in alerts:
        judged = set(qrels.get(alert.id, {}))
        if judged != keys:
            raise ValueError(
                f"alert {alert.id}: {len(keys - judged)} papers unjudged, "
                f"{len(judged - keys)} judgments for unknown papers"
            )


def _mean(scores: Sequence[Scores]) -> Scores:
    return Scores(
        ndcg=statistics.fmean(s.ndcg for s in scores),
        precision=statistics.fmean(s.precision for s in scores),
        recall=statistics.fmean(s.recall for s in scores),
        f1=statistics.fmean(s.f1 for s in scores),
        matched=statistics.fmean(s.matched for s in scores),
        sent=statistics.fmean(s.sent for s in scores),
        recall_all=statistics.fmean(s.recall_all for s in scores),
    )


def format_table(evaluation: Evaluation) -> str:
    """A Markdown table: one row per alert and method, then the means."""
    lines = [
        "| alert | query | rel | method | matched | sent | nDCG@10 | P | R | F1 | R all |",
        "|---|---|--:|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for alert in evaluation.alerts:
        for method in METHODS:
            s = evaluation.per_alert[method][alert.id]
            lines.append(
                f"| {alert.id} | `{alert.query}` | {evaluation.relevant[alert.id]} | {method} "
                f"| {s.matched:.0f} | {s.sent:.0f} | {s.ndcg:.3f} | {s.precision:.3f} "
                f"| {s.recall:.3f} | {s.f1:.3f} | {s.recall_all:.3f} |"
            )
    for method in METHODS:
        s = evaluation.mean[method]
        lines.append(
            f"| **mean** | | | {method} | {s.matched:.1f} | {s.sent:.1f} | {s.ndcg:.3f} "
            f"| {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {s.recall_all:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Print the table."""
    print(format_table(evaluate()))


if __name__ == "__main__":
    main()

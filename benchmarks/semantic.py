"""Does semantic matching help? Keyword digests against keyword + "related" papers, judged.

Run `.venv/bin/python benchmarks/semantic.py` (needs the `semantic` extra and the model
package; a minute or two on 2 cores, almost all of it embedding the 313 papers once). The
judged set, the keyword ranking and the metrics are those of benchmarks/relevance.py: one
subscriber per alert, what a daily digest sends is the keyword ranking's top 20.

Semantic matching adds, per alert, at most K papers the keywords did not match at all whose
cosine similarity to the alert's words (digest.rank.semantic.alert_text) is at least the
threshold: the product's `related_matches`, nothing scored here. They are sent after the keyword
papers, closest first, so nDCG@10 only moves where fewer than 10 papers matched. Printed:

- the speed of embedding (papers/s) on this machine;
- per alert, how many relevant papers the keywords never match (what related matching could
  win at best) and the ROC AUC of the similarity between relevant and other unmatched papers
  (0.5: the model orders them no better than chance);
- the threshold x K sweep: related papers added, how many of them were relevant (judgment
  >= 1) and relevant (2), and the mean nDCG@10, P, R, F1 of the sent set over the 8 alerts;
- per alert at one threshold (--threshold) what was added, with titles and judgments.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.relevance import (
    DIGEST_MAX,
    RELEVANT_FROM,
    Alert,
    Paper,
    corpus_stats,
    load_alerts,
    load_papers,
    load_qrels,
    ndcg,
    set_scores,
)

from digest.rank.index import PaperIndex, RankPaper, RankParams
from digest.rank.query import parse_query
from digest.rank.score import AlertSpec, SubscriberSpec, rank_subscribers
from digest.rank.semantic import (
    alert_text,
    keyword_matches,
    paper_text,
    related_matches,
)

THRESHOLDS = (0.25, 0.30, 0.35, 0.40, 0.42, 0.45, 0.50)
LIMITS = (3, 10)
SHOWN_THRESHOLD = 0.40


@dataclass(frozen=True, slots=True)
class World:
    """The judged set ranked by keywords, ready for related matching."""

    papers: list[Paper]
    alerts: tuple[Alert, ...]
    qrels: dict[str, dict[str, int]]
    index: PaperIndex
    specs: list[SubscriberSpec]
    sent: dict[str, list[int]]  # alert id -> paper rows the keyword digest sends
    matched: dict[str, set[int]]  # alert id -> every paper row the keywords match


@dataclass(frozen=True, slots=True)
class SweepRow:
    """Figures of one (threshold, K) setting, summed or averaged over the alerts."""

    threshold: float | None  # None: keywords only
    limit: int
    added: int
    relevant: int  # added papers judged >= RELEVANT_FROM
    grade2: int
    ndcg: float
    precision: float
    recall: float
    f1: float


def build_world() -> World:
    """Load the judged set and rank it by keywords with product defaults."""
    papers, alerts, qrels = load_papers(), load_alerts(), load_qrels()
    rank_papers = [
        RankPaper(id=row, title=p.title, abstract=p.abstract, upvotes=p.upvotes)
        for row, p in enumerate(papers)
    ]
    index = PaperIndex(rank_papers, stats=corpus_stats(papers), params=RankParams())
    specs = [
        SubscriberSpec(
            id=number,
            alerts=(AlertSpec(id=number, query=parse_query(alert.query)),),
            max_papers=DIGEST_MAX,
        )
        for number, alert in enumerate(alerts)
    ]
    result = rank_subscribers(specs, index)
    every = keyword_matches(specs, index)
    return World(
        papers=papers,
        alerts=alerts,
        qrels=qrels,
        index=index,
        specs=specs,
        sent={a.id: [m.paper.id for m in result.for_subscriber(n)] for n, a in enumerate(alerts)},
        matched={a.id: {m.paper.id for m in every.for_subscriber(n)} for n, a in enumerate(alerts)},
    )


def related_rows(
    world: World,
    paper_vectors: np.ndarray,
    alert_vectors: Mapping[str, np.ndarray],
    *,
    threshold: float,
    limit: int,
) -> dict[str, list[tuple[int, float]]]:
    """alert id -> (paper row, similarity) of the related papers the product adds."""
    found = related_matches(
        world.specs,
        world.index,
        paper_vectors=paper_vectors,
        alert_vectors=alert_vectors,
        matched=keyword_matches(world.specs, world.index),
        threshold=threshold,
        limit=limit,
    )
    rows: dict[str, list[tuple[int, float]]] = {alert.id: [] for alert in world.alerts}
    for match in found:
        rows[world.alerts[match.subscriber_id].id].append((match.paper.id, match.similarity))
    return rows


def sweep_row(
    world: World,
    related: Mapping[str, Sequence[tuple[int, float]]],
    *,
    threshold: float | None,
    limit: int,
) -> SweepRow:
    """Score keyword sends followed by the related papers, as benchmarks/relevance.py does."""
    figures = []
    added = relevant = grade2 = 0
    for alert in world.alerts:
        grades = world.qrels[alert.id]
        extra = [world.papers[row].key for row, _ in related.get(alert.id, ())]
        ranking = [world.papers[row].key for row in world.sent[alert.id]] + extra
        precision, recall, f1 = set_scores(ranking, grades)
        figures.append((ndcg(ranking, grades), precision, recall, f1))
        added += len(extra)
        relevant += sum(grades[key] >= RELEVANT_FROM for key in extra)
        grade2 += sum(grades[key] == 2 for key in extra)
    means = [statistics.fmean(column) for column in zip(*figures, strict=True)]
    return SweepRow(threshold, limit, added, relevant, grade2, *means)


def sweep(
    world: World, paper_vectors: np.ndarray, alert_vectors: Mapping[str, np.ndarray]
) -> list[SweepRow]:
    """Keywords alone, then every threshold x K."""
    rows = [sweep_row(world, {}, threshold=None, limit=0)]
    for limit in LIMITS:
        for threshold in THRESHOLDS:
            related = related_rows(
                world, paper_vectors, alert_vectors, threshold=threshold, limit=limit
            )
            rows.append(sweep_row(world, related, threshold=threshold, limit=limit))
    return rows


def separability(
    world: World, paper_vectors: np.ndarray, alert_vectors: Mapping[str, np.ndarray]
) -> dict[str, tuple[int, int, float]]:
    """alert id -> (unmatched papers, relevant among them, ROC AUC of the similarity)."""
    out = {}
    for alert, spec in zip(world.alerts, world.specs, strict=True):
        vector = alert_vectors[alert_text(spec.alerts[0].query)]
        rows = [r for r in range(len(world.papers)) if r not in world.matched[alert.id]]
        similarity = paper_vectors[rows] @ vector
        relevant = np.asarray(
            [world.qrels[alert.id][world.papers[r].key] >= RELEVANT_FROM for r in rows]
        )
        positive, negative = similarity[relevant], similarity[~relevant]
        auc = (
            float(
                (positive[:, None] > negative[None, :]).mean()
                + 0.5 * (positive[:, None] == negative[None, :]).mean()
            )
            if len(positive) and len(negative)
            else float("nan")
        )
        out[alert.id] = (len(rows), int(relevant.sum()), auc)
    return out


def format_sweep(rows: Sequence[SweepRow]) -> str:
    """The sweep as a Markdown table."""
    lines = [
        "| threshold | K | related added | relevant (>=1) | relevant (2) | nDCG@10 | P | R | F1 |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        label = "keywords only" if r.threshold is None else f"{r.threshold:.2f}"
        limit = "-" if r.threshold is None else str(r.limit)
        lines.append(
            f"| {label} | {limit} | {r.added} | {r.relevant} | {r.grade2} | {r.ndcg:.3f} "
            f"| {r.precision:.3f} | {r.recall:.3f} | {r.f1:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Embed once, then print the speed, the separability, the sweep and one threshold."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=SHOWN_THRESHOLD)
    parser.add_argument("--limit", type=int, default=LIMITS[0])
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing here may reach a hub
    from digest.rank.semantic import Embedder

    world = build_world()
    started = time.perf_counter()
    embedder = Embedder()
    loaded = time.perf_counter() - started
    texts = sorted({alert_text(spec.alerts[0].query) for spec in world.specs})
    started, cpu = time.perf_counter(), time.process_time()
    paper_vectors = embedder.embed([paper_text(paper) for paper in world.index.papers])
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    alert_vectors = dict(zip(texts, embedder.embed(texts), strict=True))
    count = len(world.papers)
    # CPU time too: on a shared machine the wall clock also measures the neighbours.
    print(
        f"embedding: model loaded in {loaded:.2f} s; {count} papers in {seconds:.1f} s "
        f"= {count / seconds:.1f} papers/s on {os.cpu_count()} cores; "
        f"CPU {cpu:.1f} s = {count / cpu:.1f} papers per CPU second; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print("\n| alert | alert text | unmatched | relevant unmatched | AUC |\n|---|---|--:|--:|--:|")
    for alert_id, (unmatched, relevant, auc) in separability(
        world, paper_vectors, alert_vectors
    ).items():
        number = [a.id for a in world.alerts].index(alert_id)
        text = alert_text(world.specs[number].alerts[0].query)
        print(f"| {alert_id} | {text} | {unmatched} | {relevant} | {auc:.3f} |")
    print()
    print(format_sweep(sweep(world, paper_vectors, alert_vectors)))
    related = related_rows(
        world, paper_vectors, alert_vectors, threshold=args.threshold, limit=args.limit
    )
    print(f"\nRelated papers at threshold {args.threshold:.2f}, K {args.limit}:")
    for alert in world.alerts:
        for row, similarity in related[alert.id]:
            paper = world.papers[row]
            grade = world.qrels[alert.id][paper.key]
            print(f"- {alert.id}: {similarity:.3f} judged {grade}: {paper.title[:90]}")


if __name__ == "__main__":
    main()

"""Delivery benchmarks: composing digests (render + MIME) and sending them over SMTP.

Run `.venv/bin/python benchmarks/deliver.py` (full: about ten minutes on the shared 2-core
machine, most of it sending) or `--quick` (seconds, a smoke run); `--json FILE` also writes
the figures.

Compose: the 313 sample papers (tests/data/dumps/, parsed with digest.ingest) and subscribers
with 1-6 alerts drawn from ALERTS (the eight judged alerts of tests/data/judgments/ and 32
more a medical-imaging lab would set, earlier ones more popular), ranked all at once with
digest.rank as planning does, trending papers for those nothing matched. Each digest is made
by `Composer.message` (view with explanations -> render_digest -> build_message), the call
the send pipeline makes per ledger row, in one process with one Composer whose caches start
cold, as in a real run. A warm sample then times the stages apart, and checks on some digests
that the email package decodes both bodies back to the rendered text and that the bytes are
those of encoding each body whole.

Send (benchmarks/deliver_smtp.py): the first of those messages, cycled, offered to an SMTP
sink in a process of its own (benchmarks/smtp_sink.py: aiosmtpd, or a raw asyncio one),
immediate or waiting 5 ms before every reply (a remote relay), by one smtplib connection per
message and by the project's SmtpMailer with 1, 16 and 32 connections. CPU seconds of this
process and of the sink are shown.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from benchmarks.deliver_smtp import bench_send
from benchmarks.machine import describe, load_average

from digest.config import Settings
from digest.deliver.mailer import OutgoingMessage
from digest.deliver.message import build_message, make_message_id
from digest.ingest.decode import decode_bytes
from digest.ingest.detect import parse_listing
from digest.ingest.identity import paper_key, title_key
from digest.models import AlertInfo, StoredPaper, SubscriberInfo
from digest.pipeline.compose import Composer
from digest.pipeline.ranking import parsed_query, subscriber_spec, to_rank_paper
from digest.rank.explain import explain
from digest.rank.index import PaperIndex, RankParams
from digest.rank.score import rank_subscribers
from digest.rank.stats import corpus_stats, count_terms
from digest.rank.trending import top_trending
from digest.render.view import RenderedMail

ROOT = Path(__file__).resolve().parent.parent
DUMPS = ROOT / "tests" / "data" / "dumps"
JUDGED = ROOT / "tests" / "data" / "judgments" / "alerts.json"
NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
DOMAIN = "papers.example.org"
SEED = 4
MORE_ALERTS = (
    "diffusion", "vision-language", "report generation", "MRI", "CT", "ultrasound",
    "histopathology", "federated learning", "anomaly detection", "registration",
    "explainability OR interpretability", '"chest x-ray"', "skin lesion", "classification -survey",
    "transformer", "few-shot, zero-shot", "retinal OR fundus OR OCT", "endoscopy", "brain tumor",
    "multimodal", "title:dataset", "benchmark", "LLM", "uncertainty",
    "domain adaptation OR domain generalization", "instruction tuning",
    "visual question answering", "synthetic data", "privacy", "knowledge distillation",
    "title:survey", "mamba OR state space",
)  # fmt: skip


@dataclass(frozen=True)
class Mode:
    """How much to measure."""

    name: str
    digests: int  # composed by Composer.message, timed as one run
    sample: int  # digests composed again stage by stage (warm)
    verify_every: int  # every n-th digest of the sample is decoded and compared
    keep: int  # composed messages kept in memory and cycled through for sending
    send: int  # messages per send case
    slow_send: int  # messages per case that waits ~20 ms per message on one connection


FULL = Mode("full", 100_000, 10_000, 50, 1_000, 10_000, 300)
QUICK = Mode("quick", 400, 200, 10, 100, 100, 10)


# -- inputs --------------------------------------------------------------------------------


def load_papers() -> list[StoredPaper]:
    """The distinct papers of the sample dumps as stored papers, ids 1..313 in file order."""
    found: dict[str, StoredPaper] = {}
    for path in sorted(DUMPS.glob("*.txt")):
        data = path.read_bytes()
        decoded = decode_bytes(data, source=path.name, max_bytes=len(data) + 1)
        for parsed in parse_listing(decoded, source=path.name, today=NOW.date()).papers:
            key = title_key(parsed.title)
            if key in found:
                continue
            found[key] = StoredPaper(
                id=len(found) + 1,
                key=paper_key(arxiv_id=parsed.arxiv_id, title=parsed.title),
                arxiv_id=parsed.arxiv_id,
                title=parsed.title,
                abstract=parsed.abstract,
                authors=parsed.authors,
                author_count=parsed.author_count,
                organization=parsed.organization,
                published=parsed.published,
                upvotes=parsed.upvotes,
                first_seen_at=NOW,
                edition_id=1,
            )
    return list(found.values())


def alert_pool() -> list[str]:
    """The judged alerts first, then the others; earlier alerts are chosen more often."""
    judged = json.loads(JUDGED.read_text(encoding="utf-8"))["alerts"]
    return [item["query"] for item in judged] + list(MORE_ALERTS)


def make_subscribers(
    count: int, pool: Sequence[str], *, rng: random.Random
) -> list[SubscriberInfo]:
    """Active subscribers with 1-6 distinct alerts each, popularity falling as 1/rank^0.8."""
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(pool))]
    subscribers = []
    alert_id = 0
    for number in range(1, count + 1):
        wanted = rng.randint(1, 6)
        queries: list[str] = []
        while len(queries) < wanted:
            query = rng.choices(pool, weights)[0]
            if query not in queries:
                queries.append(query)
        alerts = []
        for query in queries:
            alert_id += 1
            alerts.append(AlertInfo(id=alert_id, query=query, created_at=NOW))
        subscribers.append(
            SubscriberInfo(
                id=number,
                email=f"reader{number}@example.org",
                status="active",
                timezone="UTC",
                send_hour=6,
                frequency="daily",
                max_papers=20,
                include_trending=True,
                created_at=NOW,
                confirmed_at=NOW,
                token_nonce=f"{rng.getrandbits(128):032x}",
                alerts=tuple(alerts),
            )
        )
    return subscribers


def plan_contents(
    subscribers: Sequence[SubscriberInfo], papers: Sequence[StoredPaper]
) -> list[dict[str, Any]]:
    """Each subscriber's ledger content, shaped as digest/pipeline/planning.py writes it."""
    counts = count_terms((paper.title, paper.abstract) for paper in papers)
    stats = corpus_stats(
        documents=counts.documents,
        title_terms=counts.title_terms,
        abstract_terms=counts.abstract_terms,
        df=counts.df,
    )
    index = PaperIndex([to_rank_paper(p) for p in papers], stats=stats, params=RankParams())
    result = rank_subscribers([subscriber_spec(s) for s in subscribers], index)
    contents = []
    for subscriber in subscribers:
        matches = result.for_subscriber(subscriber.id)
        chosen: list[dict[str, Any]] = [
            {"id": m.paper.id, "score": round(m.score, 4), "alerts": list(m.alert_ids)}
            for m in matches
        ]
        if not chosen:  # nothing matched: the trending papers, as planning sends them
            chosen = [
                {"id": paper.id, "score": 0.0, "alerts": [], "trending": True}
                for paper in top_trending(index.papers, limit=5)
            ]
        contents.append(
            {
                "editions": [1],
                "days": [NOW.date().isoformat()],
                "new": len(papers),
                "seen": 25,
                "matched": len(matches),
                "papers": chosen,
            }
        )
    return contents


def bench_settings() -> Settings:
    """The settings a real deployment would mail with (no files: the secret is given)."""
    return Settings(
        service_name="Daily Papers Digest",
        base_url=f"https://{DOMAIN}",
        secret_key="benchmark-secret-key-0123456789abcdef",
        mail_from=f"Daily Papers Digest <digest@{DOMAIN}>",
        postal_address="Example Lab\n1 Research Road\n12345 Science City",
        list_id=f"daily.{DOMAIN}",
    )


# -- composing -----------------------------------------------------------------------------


@dataclass
class Workload:
    """Everything a digest is made from."""

    settings: Settings
    subscribers: list[SubscriberInfo]
    contents: list[dict[str, Any]]
    papers: dict[int, StoredPaper]

    def message_id(self, index: int) -> str:
        return make_message_id(self.subscribers[index].id, 1, domain=DOMAIN)


def bench_compose(work: Workload, mode: Mode) -> tuple[dict[str, Any], list[OutgoingMessage]]:
    """Composer.message for every subscriber, one process, caches cold at the start."""
    composer = Composer(work.settings)
    kept: list[OutgoingMessage] = []
    total_bytes = 0
    started, cpu = time.perf_counter(), time.process_time()
    for index, subscriber in enumerate(work.subscribers):
        message = composer.message(
            subscriber,
            work.contents[index],
            work.papers,
            message_id=work.message_id(index),
            now=NOW,
            key=index,
        )
        total_bytes += len(message.data)
        if index < mode.keep:
            kept.append(message)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    count = len(work.subscribers)
    papers = statistics.mean(len(c["papers"]) for c in work.contents)
    print(
        f"\ncompose: Composer.message (view -> render_digest -> build_message) for {count:,} "
        f"subscribers, {papers:.1f} papers per digest on average, one process, caches cold"
    )
    print(
        f"compose total {wall:7.2f} s  {count / wall:7,.0f} digests/s  "
        f"{count / cpu:7,.0f} digests/CPU-s  {1e6 * wall / count:6.0f} us/digest  "
        f"{total_bytes / count / 1000:5.1f} KB/message"
    )
    figures = {
        "digests": count,
        "papers_per_digest": papers,
        "wall_s": wall,
        "cpu_s": cpu,
        "digests_per_s": count / wall,
        "digests_per_cpu_s": count / cpu,
        "message_kb": total_bytes / count / 1000,
    }
    return figures, kept


def bench_explain(work: Workload, compose: dict[str, Any], *, runs: int) -> dict[str, float]:
    """What the cold run spent explaining: distinct (paper, matched alerts) pairs x one call."""
    pairs: dict[tuple[int, tuple[str, ...]], None] = {}
    for subscriber, content in zip(work.subscribers, work.contents, strict=True):
        queries = {alert.id: alert.query for alert in subscriber.alerts}
        for item in content["papers"]:
            texts = tuple(queries[a] for a in item["alerts"] if a in queries)
            if texts:
                pairs.setdefault((int(item["id"]), texts), None)
    sample = list(pairs)[:runs]
    parsed = {text: parsed_query(text) for _, texts in sample for text in texts}
    started = time.process_time()
    for paper_id, texts in sample:  # what Composer._explain does on a cache miss
        paper = work.papers[paper_id]
        alerts = [(n, query) for n, t in enumerate(texts) if (query := parsed[t]) is not None]
        explain(alerts, title=paper.title, abstract=paper.abstract)
    each = (time.process_time() - started) / len(sample)
    share = len(pairs) * each / compose["cpu_s"]
    print(
        f"explain: {len(pairs):,} distinct (paper, matched alerts) pairs in the run, explain() "
        f"{1e6 * each:,.0f} us CPU each (mean of {len(sample)}): about {len(pairs) * each:.1f} "
        f"CPU-s, {100 * share:.0f} % of the compose run's"
    )
    return {"pairs": len(pairs), "explain_us": 1e6 * each, "share": share}


def bench_stages(work: Workload, mode: Mode) -> dict[str, float]:
    """The same calls stage by stage on a warm Composer, and MIME with bodies encoded whole."""
    composer = Composer(work.settings)
    indexes = range(mode.sample)
    for index in indexes:  # warm the caches: explanations, blocks, encodings
        composer.message(
            work.subscribers[index], work.contents[index], work.papers,
            message_id=work.message_id(index), now=NOW,
        )  # fmt: skip
    times = {"view": 0.0, "render": 0.0, "mime": 0.0, "mime_whole": 0.0}
    html = text = 0
    verified = 0
    for index in indexes:
        subscriber = work.subscribers[index]
        t0 = time.process_time()
        view = composer.view(subscriber, work.contents[index], work.papers)
        t1 = time.process_time()
        rendered = composer.render(view)
        t2 = time.process_time()
        message = _mime(work, composer, index, rendered)
        t3 = time.process_time()
        whole = _mime(
            work, composer, index, RenderedMail(rendered.subject, rendered.html, rendered.text)
        )
        t4 = time.process_time()
        for stage, seconds in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            times[stage] += seconds
        html += len(rendered.html.encode())
        text += len(rendered.text.encode())
        if index % mode.verify_every == 0:
            _verify(message, whole, rendered)
            verified += 1
    per = {stage: 1e6 * seconds / len(indexes) for stage, seconds in times.items()}
    total = per["view"] + per["render"] + per["mime"]
    print(
        f"\nstages: the same {len(indexes):,} digests again, warm, CPU time of each stage "
        f"(HTML {html / len(indexes) / 1000:.1f} KB, text {text / len(indexes) / 1000:.1f} KB)"
    )
    for stage, what in (
        ("view", "Composer.view: tokens, explanations, paper views"),
        ("render", "render_digest"),
        ("mime", "build_message, the blocks' encodings reused"),
        ("mime_whole", "build_message, each body encoded whole"),
    ):
        print(f"stage {stage:<12} {per[stage]:6.0f} us/digest  ({what})")
    print(f"stage {'sum':<12} {total:6.0f} us/digest  = {1e6 / total:,.0f} digests/CPU-s")
    print(
        f"verify: {verified} messages parsed by the email package: both bodies decode to the "
        "rendered text, bytes identical to encoding each body whole"
    )
    return {**{f"{stage}_us": value for stage, value in per.items()}, "verified": verified}


def _mime(
    work: Workload, composer: Composer, index: int, rendered: RenderedMail
) -> OutgoingMessage:
    """build_message with the arguments Composer.message passes."""
    subscriber = work.subscribers[index]
    return build_message(
        rendered,
        sender=work.settings.mail_from,
        recipient=subscriber.email,
        message_id=work.message_id(index),
        date=NOW,
        list_id=work.settings.list_id,
        unsubscribe_url=composer.links.unsubscribe_url(subscriber),
        unsubscribe_mailto=composer.links.unsubscribe_mailto(),
        service_name=work.settings.service_name,
    )


def _verify(message: OutgoingMessage, whole: OutgoingMessage, rendered: RenderedMail) -> None:
    if message.data != whole.data:
        raise SystemExit(f"{message.message_id}: pieces and whole bodies encode differently")
    parsed = email.message_from_bytes(message.data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    bodies = []
    for part in parsed.iter_parts():
        assert isinstance(part, EmailMessage)
        content = part.get_content()
        bodies.append(content.replace("\r\n", "\n") if isinstance(content, str) else content)
    expected = [
        body.replace("\r\n", "\n").replace("\r", "\n") for body in (rendered.text, rendered.html)
    ]
    if bodies != expected:
        raise SystemExit(f"{message.message_id}: a body does not decode to the rendered text")


# -- main ----------------------------------------------------------------------------------


def machine() -> str:
    """CPU, cores, versions and the load average, for the record."""
    return describe(f"load average {load_average()}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    mode = QUICK if args.quick else FULL
    print(f"digest delivery benchmark ({mode.name}) on {machine()}")
    started = time.perf_counter()
    papers = load_papers()
    subscribers = make_subscribers(mode.digests, alert_pool(), rng=random.Random(SEED))
    ranked = time.perf_counter()
    contents = plan_contents(subscribers, papers)
    print(
        f"inputs: {len(papers)} sample papers, {len(subscribers):,} subscribers with "
        f"{statistics.mean(len(s.alerts) for s in subscribers):.1f} alerts on average, "
        f"ranked in {time.perf_counter() - ranked:.1f} s"
    )
    work = Workload(bench_settings(), subscribers, contents, {p.id: p for p in papers})
    compose, kept = bench_compose(work, mode)
    compose["explain"] = bench_explain(work, compose, runs=mode.sample // 10)
    stages = bench_stages(work, mode)
    send = bench_send(kept, messages=mode.send, few=mode.slow_send)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    if args.json:
        figures = {
            "mode": mode.name,
            "machine": machine(),
            "compose": compose,
            "stages": stages,
            "send": send,
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The ranking benchmark's workload and baseline: a day's papers, subscribers' alerts, and the
naive loop over subscribers x papers x alert terms (see benchmarks/rank.py)."""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import accumulate, pairwise
from pathlib import Path
from typing import Any

from digest.ingest.decode import decode_bytes
from digest.ingest.detect import parse_listing
from digest.ingest.identity import title_key
from digest.rank.analyzer import STOPWORDS, terms
from digest.rank.index import CorpusStats, RankPaper
from digest.rank.query import Query, parse_query
from digest.rank.stats import corpus_stats, count_terms

ROOT = Path(__file__).resolve().parent.parent
DUMPS = ROOT / "tests" / "data" / "dumps"
LISTING_DAY = date(2026, 11, 24)
SEED = 20261124
_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


# -- papers and alerts ------------------------------------------------------------------------


def sample_papers() -> list[RankPaper]:
    """The distinct papers of the sample dumps (313), parsed by the product's ingest code."""
    found: dict[str, RankPaper] = {}
    for path in sorted(DUMPS.glob("*.txt")):
        data = path.read_bytes()
        decoded = decode_bytes(data, source=path.name, max_bytes=len(data) + 1)
        for paper in parse_listing(decoded, source=path.name, today=LISTING_DAY).papers:
            found.setdefault(
                title_key(paper.title),
                RankPaper(id=0, title=paper.title, abstract=paper.abstract, upvotes=paper.upvotes),
            )
    return list(found.values())


def day_papers(bases: Sequence[RankPaper], count: int) -> list[RankPaper]:
    """`count` distinct papers: the samples first, then variants of them.

    A variant keeps its base's title with a marker, rotates the abstract's sentences, drops
    one and borrows one from another paper, so that words co-occur differently (phrases and
    ANDs hold in some variants and not in others) while the vocabulary stays real.
    """
    out: list[RankPaper] = []
    for row in range(count):
        base = bases[row % len(bases)]
        generation = row // len(bases)
        if generation == 0:
            out.append(RankPaper(row, base.title, base.abstract, base.upvotes))
            continue
        sentences = _SENTENCE.split(base.abstract)
        shift = generation % len(sentences)
        sentences = sentences[shift:] + sentences[:shift]
        if len(sentences) > 3:
            del sentences[generation % len(sentences)]
        donor = _SENTENCE.split(bases[(row * 7 + generation) % len(bases)].abstract)
        sentences.insert(len(sentences) // 2, donor[generation % len(donor)])
        title = f"{base.title} v{generation}"
        out.append(RankPaper(row, title, " ".join(sentences), base.upvotes))
    return out


@dataclass(frozen=True)
class Vocabulary:
    """Words and adjacent word pairs of the papers, as a subscriber would type them."""

    words: list[str]
    word_weights: list[float]  # cumulative: random.choices then bisects instead of summing
    pairs: list[str]
    pair_weights: list[float]


def vocabulary(papers: Sequence[RankPaper]) -> Vocabulary:
    """Topical words (in 2 papers or more, in at most a quarter) and two-word phrases."""
    word_df: Counter[str] = Counter()
    pair_df: Counter[str] = Counter()
    shown: dict[str, Counter[str]] = {}
    topical: dict[str, bool] = {}
    for paper in papers:
        words: set[str] = set()
        pairs: set[str] = set()
        for text in (paper.title, paper.abstract):
            raw = [word.lower() for word in _WORD.findall(text)]
            for word, lowered in zip(_WORD.findall(text), raw, strict=True):
                shown.setdefault(lowered, Counter())[word] += 1
                if lowered not in topical:
                    topical[lowered] = _topical(lowered)
            words.update(raw)
            pairs.update(f"{a} {b}" for a, b in pairwise(raw) if topical[a] and topical[b])
        word_df.update(words)
        pair_df.update(pairs)
    ceiling = len(papers) // 4
    chosen = sorted(w for w, df in word_df.items() if 2 <= df <= ceiling and topical[w])
    two_words = sorted(p for p, df in pair_df.items() if df >= 2)
    return Vocabulary(
        # Acronyms are typed as they are written (`SAM`, `CT`); other words in lower case.
        words=[_as_typed(word, shown[word]) for word in chosen],
        word_weights=list(accumulate(float(word_df[w]) for w in chosen)),
        pairs=two_words,
        pair_weights=list(accumulate(float(pair_df[p]) for p in two_words)),
    )


def _topical(lowered: str) -> bool:
    # Stop words are dropped after stemming (`being` -> `be`), so check the terms too.
    return (
        len(lowered) >= 3
        and not lowered.isdigit()
        and not all(term in STOPWORDS for term in terms(lowered))
    )


def _as_typed(word: str, spellings: Counter[str]) -> str:
    common = spellings.most_common(1)[0][0]
    return common if common.isupper() and len(common) <= 6 else word


# Alert shapes and their share of all alerts.
SHAPES = (
    ("word", 0.30),
    ("and", 0.20),
    ("phrase", 0.14),
    ("or", 0.10),
    ("exclude", 0.10),
    ("title", 0.08),
    ("comma", 0.08),
)


def alert_text(rng: random.Random, vocab: Vocabulary, shape: str) -> str:
    """One alert as a subscriber would type it."""

    def word() -> str:
        return rng.choices(vocab.words, cum_weights=vocab.word_weights)[0]

    def pair() -> str:
        return rng.choices(vocab.pairs, cum_weights=vocab.pair_weights)[0]

    if shape == "word":
        return word()
    if shape == "and":
        return f"{word()} {word()}"
    if shape == "phrase":
        return f'"{pair()}"'
    if shape == "or":
        return f"{word()} OR {word()}" if rng.random() < 0.6 else f"{word()} {word()} OR {word()}"
    if shape == "exclude":
        return f"{word()} -{word()}" if rng.random() < 0.7 else f"{word()} {word()} -{word()}"
    if shape == "title":
        choice = rng.random()
        if choice < 0.5:
            return f"title:{word()}"
        return f'title:"{pair()}"' if choice < 0.8 else f"title:{word()} {word()}"
    items = [pair() if rng.random() < 0.4 else word() for _ in range(rng.randint(2, 4))]
    return ", ".join(items)


def subscriber_alerts(count: int, vocab: Vocabulary) -> list[list[str]]:
    """Alert texts of `count` subscribers, 1 to 6 each; subscriber i is the same at any count."""
    rng = random.Random(SEED)
    names = [name for name, _ in SHAPES]
    weights = [share for _, share in SHAPES]
    return [
        [alert_text(rng, vocab, rng.choices(names, weights)[0]) for _ in range(rng.randint(1, 6))]
        for _ in range(count)
    ]


def shape_counts(parsed: Sequence[Query]) -> dict[str, int]:
    """How many alerts use each part of the language (an alert may count in several)."""
    counts: Counter[str] = Counter()
    for query in parsed:
        text = query.text
        counts["quoted phrase"] += '"' in text
        counts["OR"] += " OR " in text
        counts["exclusion"] += bool(query.excluded)
        counts["title:"] += "title:" in text
        counts["comma list"] += "," in text
        counts["single word"] += len(query.terms()) == 1 and not query.excluded and text.isalnum()
    return dict(counts)


def archive_stats(papers: Sequence[RankPaper]) -> CorpusStats:
    """Statistics of the day's papers as the archive (kept at ingest in the product)."""
    counts = count_terms((paper.title, paper.abstract) for paper in papers)
    return corpus_stats(
        documents=counts.documents,
        title_terms=counts.title_terms,
        abstract_terms=counts.abstract_terms,
        df=counts.df,
    )


# -- the naive loop ------------------------------------------------------------------------


def measure_naive(subscribers: int, papers_count: int, total_alerts: int) -> dict[str, Any]:
    """Subscribers x papers x alert terms with compiled regexes, on the first `subscribers`."""
    papers = day_papers(sample_papers(), papers_count)
    texts = subscriber_alerts(subscribers, vocabulary(papers))
    alerts = sum(len(a) for a in texts)
    started = time.perf_counter()
    sent = naive_rank(texts, papers)
    seconds = time.perf_counter() - started
    return {
        "subscribers": subscribers,
        "alerts": alerts,
        "papers": len(papers),
        "seconds": seconds,
        "matches": sum(len(s) for s in sent),
        "per_alert_s": seconds / alerts,
        "extrapolated_s": seconds / alerts * total_alerts,
    }


def naive_rank(texts: list[list[str]], papers: Sequence[RankPaper]) -> list[list[int]]:
    """The loop DESIGN.md rules out: every subscriber, every paper, every alert, every term."""
    cache: dict[str, re.Pattern[str]] = {}
    out = []
    for alerts in texts:
        compiled = [_naive_query(parse_query(text), cache) for text in alerts]
        scored = []
        for row, paper in enumerate(papers):
            best, hits = 0.0, 0
            for clauses, excluded in compiled:
                score = 0.0
                for clause in clauses:
                    found = 0.0
                    for pattern, title_only in clause:
                        found += 3 * len(pattern.findall(paper.title))
                        if not title_only:
                            found += len(pattern.findall(paper.abstract))
                    if not found:
                        break
                    score += found
                else:
                    if not any(
                        p.search(paper.title) or (not t and p.search(paper.abstract))
                        for p, t in excluded
                    ):
                        best, hits = max(best, score), hits + 1
            if hits:
                scored.append((best * (1 + 0.25 * (hits - 1)), row))
        scored.sort(reverse=True)
        out.append([row for _, row in scored[:20]])
    return out


_Patterns = tuple[tuple[tuple[re.Pattern[str], bool], ...], ...]


def _naive_query(
    query: Query, cache: dict[str, re.Pattern[str]]
) -> tuple[_Patterns, tuple[tuple[re.Pattern[str], bool], ...]]:
    def pattern(text: str) -> re.Pattern[str]:
        body = text.lstrip("-").removeprefix("title:").strip('"')
        words = body.replace("-", " ").split()
        source = r"\b" + r"[\s-]*".join(re.escape(w) for w in words) + r"\w*"
        if source not in cache:
            cache[source] = re.compile(source, re.IGNORECASE)
        return cache[source]

    clauses = tuple(
        tuple((pattern(term.text), term.feature.title_only) for term in clause)
        for clause in query.clauses
    )
    excluded = tuple((pattern(term.text), term.feature.title_only) for term in query.excluded)
    return clauses, excluded

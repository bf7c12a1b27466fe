"""The hook for optional semantic matching: "related" papers to add to planned digests.

Planning calls `related_by_subscriber` once after ranking and appends `related_entries` to each
subscriber's papers. With `semantic_matching` off (the default) nothing is loaded and nothing
changes. A related entry carries no matched alerts (nothing in the paper matches the words, so
there is nothing to highlight); it names the alert it is close to in `related_to`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from digest.config import Settings
from digest.rank.index import PaperIndex
from digest.rank.score import SubscriberSpec
from digest.rank.semantic import Embedder, RelatedMatch, TextEmbedder, find_related

log = logging.getLogger(__name__)


def related_by_subscriber(
    specs: Sequence[SubscriberSpec],
    index: PaperIndex,
    *,
    settings: Settings,
    embedder: TextEmbedder | None = None,
) -> dict[int, list[RelatedMatch]]:
    """Each subscriber's related papers, closest first; empty when the setting is off.

    Loads the model (a fraction of a second) unless an embedder is given; raises ConfigError
    when the setting is on but the `semantic` extra is not installed.
    """
    if not settings.semantic_matching:
        return {}
    if embedder is None:
        embedder = Embedder()
    grouped: dict[int, list[RelatedMatch]] = {}
    for match in find_related(
        specs, index, embedder=embedder, threshold=settings.semantic_threshold
    ):
        grouped.setdefault(match.subscriber_id, []).append(match)
    return grouped


def related_entries(matches: Sequence[RelatedMatch]) -> list[dict[str, Any]]:
    """Ledger content entries for related papers, after the keyword ones."""
    return [
        {
            "id": match.paper.id,
            "score": round(match.similarity, 4),
            "alerts": [],
            "related_to": match.alert_id,
        }
        for match in matches
    ]

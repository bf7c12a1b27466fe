"""The semantic hook in planning: off changes nothing; on adds labelled "related" papers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pytest
from sqlalchemy.engine import Engine

from digest.config import Settings
from digest.pipeline import add_subscriber, ingest_bytes
from digest.pipeline import related as related_hook
from digest.pipeline.compose import Composer
from digest.pipeline.planning import plan_deliveries
from digest.store import papers
from digest.store.db import reading
from tests.factories import Entry, abstract, text_dump


class _TopicEmbedder:
    """Texts about melanoma land next to the alert "dermatology"; everything else far away."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows = [
            [1.0, 0.0] if ("dermatology" in t or "melanoma" in t.lower()) else [0.0, 1.0]
            for t in texts
        ]
        return np.asarray(rows, dtype=np.float32)


@pytest.fixture
def world(engine: Engine, settings: Settings, now: datetime) -> Settings:
    dump = text_dump(
        Entry("Dermatology atlas of rare conditions", abstract("dermatology atlases")),
        Entry("Melanoma detection from phone photos", abstract("melanoma detection")),
        Entry("Retinal vessel segmentation", abstract("retinal vessels")),
    )
    assert ingest_bytes(engine, dump, source="d.txt", settings=settings, now=now).new == 3
    add_subscriber(engine, "ana@example.org", alerts=["dermatology"], settings=settings, now=now)
    return settings.model_copy(update={"postal_address": "1 Lab Road"})


def _titles(engine: Engine, content: dict[str, object]) -> list[str]:
    items = content["papers"]
    assert isinstance(items, list)
    with reading(engine) as session:
        stored = papers.get_many(session, [int(item["id"]) for item in items])
    return [stored[int(item["id"])].title for item in items]


def test_off_by_default_adds_nothing(engine: Engine, world: Settings, now: datetime) -> None:
    plan = plan_deliveries(engine, settings=world, now=now, write=False, respect_send_hour=False)
    assert _titles(engine, plan.rows[0].content) == ["Dermatology atlas of rare conditions"]


def test_on_adds_a_related_paper_labelled_as_such(
    engine: Engine, world: Settings, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(related_hook, "Embedder", _TopicEmbedder)
    settings = world.model_copy(update={"semantic_matching": True, "semantic_threshold": 0.5})
    plan = plan_deliveries(engine, settings=settings, now=now, write=False, respect_send_hour=False)
    content = plan.rows[0].content
    assert _titles(engine, content) == [
        "Dermatology atlas of rare conditions",
        "Melanoma detection from phone photos",
    ]
    related = content["papers"][1]  # type: ignore[index]
    assert related["alerts"] == []
    with reading(engine) as session:
        stored = papers.get_many(session, [int(item["id"]) for item in content["papers"]])  # type: ignore[union-attr]
        from digest.store import subscribers

        person = subscribers.get_many(session, [plan.rows[0].subscriber_id])
    view = Composer(settings).view(next(iter(person.values())), content, stored)
    assert view.papers[1].chips == ("related to dermatology",)
    assert view.matched_count == 1  # the keyword count; related papers are extra

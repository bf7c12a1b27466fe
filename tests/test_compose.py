"""A digest cut to the subscriber's maximum says how many more matched and links to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from digest.config import Settings
from digest.pipeline import Preferences, add_subscriber, ingest_paths
from digest.pipeline.compose import Composer
from digest.pipeline.planning import plan_deliveries
from digest.store import papers, subscribers
from digest.store.db import reading
from tests.conftest import SAMPLE_DUMPS


def test_matches_beyond_max_papers_become_the_more_link(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    ingest_paths(engine, SAMPLE_DUMPS[:1], settings=settings, now=now)
    add_subscriber(
        engine,
        "ana@example.org",
        alerts=["segmentation"],
        settings=settings,
        now=now,
        prefs=Preferences(max_papers=3),
    )
    plan = plan_deliveries(engine, settings=settings, now=now, write=False, respect_send_hour=False)
    content = plan.rows[0].content
    assert len(content["papers"]) == 3  # type: ignore[arg-type]
    matched = content["matched"]
    assert isinstance(matched, int)
    assert matched > 3
    with reading(engine) as session:
        stored = papers.get_many(session, [int(i["id"]) for i in content["papers"]])  # type: ignore[union-attr]
        person = next(iter(subscribers.get_many(session, [plan.rows[0].subscriber_id]).values()))
    composer = Composer(settings.model_copy(update={"postal_address": "1 Lab Road"}))
    view = composer.view(person, content, stored)
    assert view.matched_count == matched
    assert view.more_count == matched - 3
    rendered = composer.render(view)
    assert f"{matched - 3} more papers matched" in rendered.text
    assert view.more_url in rendered.html

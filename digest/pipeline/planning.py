"""Planning the day's digests: who is due, which papers they are owed, ranked, into the ledger.

Each due subscriber is owed the papers of every edition since the last digest delivered to
them (so weekly subscribers and missed days lose nothing); all due subscribers are ranked at
once over the union of those papers, each masked to their own window. Planning writes one
ledger row per (subscriber, edition) before anything is sent; the row freezes the content.
"""

from __future__ import annotations

import bisect
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from digest.config import Settings
from digest.deliver.message import make_message_id
from digest.errors import NotFoundError
from digest.models import SubscriberInfo
from digest.pipeline.ranking import build_index, ensure_term_stats, subscriber_spec
from digest.pipeline.related import related_by_subscriber, related_entries
from digest.rank.score import rank_subscribers
from digest.rank.trending import top_trending
from digest.store import deliveries, editions, listings, papers, subscribers
from digest.store.db import reading, transaction

log = logging.getLogger(__name__)

MAX_WINDOW_EDITIONS = 14  # a subscriber back after a long pause gets the last two weeks
TRENDING_WHEN_NOTHING_MATCHED = 5
WEEK = timedelta(days=7) - timedelta(hours=1)  # a weekly run an hour early still counts


@dataclass(frozen=True, slots=True)
class PlanReport:
    """What planning decided."""

    edition_id: int | None
    edition_day: str | None
    due: int = 0
    planned: int = 0  # rows with papers to send
    skipped: int = 0  # rows with nothing to send (nothing matched, no trending wanted)
    not_due: int = 0
    already: int = 0  # had a row for this edition before
    rows: tuple[deliveries.PlannedDelivery, ...] = field(default=(), repr=False)


def plan_deliveries(
    engine: Engine,
    *,
    settings: Settings,
    now: datetime,
    respect_send_hour: bool = True,
    only: SubscriberInfo | None = None,
    write: bool = True,
    edition_day: date | None = None,
    fresh: bool = False,
) -> PlanReport:
    """Plan digests for the newest edition (or that of `edition_day`); `write=False` plans
    without touching the ledger, `only` plans one subscriber whether due or not."""
    ensure_term_stats(engine)
    with reading(engine) as session:
        newest = (
            editions.latest(session)
            if edition_day is None
            else editions.for_day(session, edition_day)
        )
        if newest is None:
            if edition_day is not None:
                raise NotFoundError(f"no edition for {edition_day.isoformat()}")
            return PlanReport(edition_id=None, edition_day=None)
        edition_id, edition_day = newest
        candidates = (
            [only]
            if only is not None
            else subscribers.list_subscribers(session, statuses=["active"])
        )
        ids = [candidate.id for candidate in candidates]
        # Only candidates count: someone who left after their row was planned is neither.
        already = (
            set() if only is not None else deliveries.planned_for(session, edition_id) & set(ids)
        )
        # `fresh`: as if nothing had been delivered yet (a preview of the newest edition).
        last_edition = {} if fresh else deliveries.owed_after(session, ids)
        last_time = deliveries.last_sent_times(session, ids)
        due = [
            candidate
            for candidate in candidates
            if candidate.id not in already
            and (
                only is not None
                or _is_due(
                    candidate,
                    last_time.get(candidate.id),
                    now,
                    edition_day=edition_day,
                    respect_hour=respect_send_hour,
                )
            )
        ]
        owed_after = {
            candidate.id: last_edition.get(candidate.id, edition_id - 1) for candidate in due
        }
        window = editions.window(
            session,
            after_id=min(owed_after.values(), default=edition_id - 1),
            upto_id=edition_id,
            limit=MAX_WINDOW_EDITIONS,
        )
        window_ids = [ident for ident, _ in window]
        stored = papers.papers_since(session, edition_ids=window_ids)
        index = build_index(session, stored, settings=settings)
        seen_by_edition = {
            ident: listings.known_in_editions(session, [ident]) for ident in window_ids
        }
    days = dict(window)
    paper_editions = [paper.edition_id for paper in stored]
    specs = []
    for candidate in due:
        first = bisect.bisect_right(paper_editions, owed_after[candidate.id])
        specs.append(subscriber_spec(candidate, first_paper=first))
    result = rank_subscribers(specs, index)
    related = related_by_subscriber(specs, index, settings=settings)  # {} unless switched on
    domain = mail_domain(settings)
    planned: list[deliveries.PlannedDelivery] = []
    skipped = 0
    for candidate, spec in zip(due, specs, strict=True):
        matches = result.for_subscriber(candidate.id)
        chosen: list[dict[str, Any]] = [
            {"id": m.paper.id, "score": round(m.score, 4), "alerts": list(m.alert_ids)}
            for m in matches
        ]
        chosen.extend(related_entries(related.get(candidate.id, [])))
        if not chosen and (not spec.alerts or candidate.include_trending):
            limit = (
                candidate.max_papers
                if not spec.alerts
                else min(TRENDING_WHEN_NOTHING_MATCHED, candidate.max_papers)
            )
            chosen = [
                {"id": paper.id, "score": 0.0, "alerts": [], "trending": True}
                for paper in top_trending(index.papers, limit=limit, first=spec.first_paper)
            ]
        covered = [ident for ident in window_ids if ident > owed_after[candidate.id]]
        content = {
            "editions": covered,
            "days": [days[ident].isoformat() for ident in covered],
            "new": len(index.papers) - spec.first_paper,
            "seen": sum(seen_by_edition[ident] for ident in covered),
            "matched": result.matched_total(candidate.id),
            "papers": chosen,
        }
        state = "pending" if chosen else "skipped"
        skipped += state == "skipped"
        planned.append(
            deliveries.PlannedDelivery(
                subscriber_id=candidate.id,
                edition_id=edition_id,
                message_id=make_message_id(candidate.id, edition_id, domain=domain),
                state=state,
                content=content,
            )
        )
    inserted = 0
    if write and planned:
        with transaction(engine) as session:
            inserted = deliveries.insert_planned(session, planned, now=now)
    report = PlanReport(
        edition_id=edition_id,
        edition_day=edition_day.isoformat(),
        due=len(due),
        planned=len(planned) - skipped,
        skipped=skipped,
        not_due=len(candidates) - len(due) - len(already),
        already=len(already),
        rows=tuple(planned),
    )
    log.info(
        "plan: edition=%s due=%d planned=%d skipped=%d not_due=%d already=%d inserted=%d",
        report.edition_day,
        report.due,
        report.planned,
        report.skipped,
        report.not_due,
        report.already,
        inserted,
    )
    return report


def _is_due(
    subscriber: SubscriberInfo,
    last_sent: datetime | None,
    now: datetime,
    *,
    edition_day: date,
    respect_hour: bool,
) -> bool:
    """Daily: once the local send hour of the edition's day (or a later day) has come; weekly:
    also a week after the last digest."""
    if respect_hour:
        local = now.astimezone(ZoneInfo(subscriber.timezone))
        # West of the service the edition's day may not have begun yet: 22:00 the evening
        # before is past a 7:00 send hour, but not the send hour of the edition's day.
        if local.date() < edition_day or local.hour < subscriber.send_hour:
            return False
    return not (
        subscriber.frequency == "weekly" and last_sent is not None and now - last_sent < WEEK
    )


def mail_domain(settings: Settings) -> str:
    """The domain Message-IDs are made in: the From address's."""
    address = settings.mail_from.rsplit("<", 1)[-1].rstrip(">").strip()
    return address.rsplit("@", 1)[-1] or "localhost"

"""Planning digests into the ledger: editions and windows, who is due, what each row holds.

The four sample dumps arrive one per simulated day; digests are planned and sent (to the
in-memory mailer) after each, and the ledger is read back to check what every subscriber was
owed and given: each paper once, none lost.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from digest import pipeline
from digest.config import Settings
from digest.deliver.mailer import Status
from digest.deliver.memory import MemoryMailer
from digest.models import SubscriberInfo
from digest.pipeline.planning import TRENDING_WHEN_NOTHING_MATCHED, PlanReport, plan_deliveries
from digest.pipeline.sending import SendReport, send_pending
from digest.store import deliveries, papers
from digest.store.db import reading, transaction
from tests.conftest import SAMPLE_DUMPS
from tests.delivery_world import (
    DOMAIN,
    day,
    edition_papers,
    editions_by_day,
    ingest_day,
    ledger,
    mail_settings,
    paper_ids,
    rows_of,
    set_status,
    subscribe,
)

EVERYTHING = {"max_papers": 200}  # no alerts and room for a whole day: the row is the edition
NEW_PER_DAY = [89, 47, 55, 122]


@pytest.fixture
def mail(settings: Settings) -> Settings:
    """Settings that can send (to the in-memory mailer)."""
    return mail_settings(settings)


def plan(engine: Engine, settings: Settings, at: datetime, **options: object) -> PlanReport:
    return plan_deliveries(engine, settings=settings, now=at, **options)  # type: ignore[arg-type]


def send(engine: Engine, mailer: MemoryMailer, settings: Settings, at: datetime) -> SendReport:
    return send_pending(engine, mailer, settings=settings, clock=lambda: at)


def run(engine: Engine, settings: Settings, mailer: MemoryMailer, at: datetime) -> None:
    """Plan and send as a scheduled run at `at` would."""
    plan(engine, settings, at)
    send(engine, mailer, settings, at)


def sent_papers(engine: Engine, subscriber: SubscriberInfo) -> list[int]:
    """Every paper id in the subscriber's delivered digests, repeats kept."""
    return [
        paper
        for row in rows_of(engine, subscriber)
        if row.state == "sent"
        for paper in paper_ids(row)
    ]


def assert_each_paper_once(engine: Engine, subscriber: SubscriberInfo, editions: list[int]) -> None:
    """The subscriber's delivered digests hold every paper of `editions` exactly once."""
    got = sent_papers(engine, subscriber)
    assert len(got) == len(set(got)), "a paper was sent twice"
    assert set(got) == edition_papers(engine, editions)


# --- editions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timezone", "days"),
    [
        ("UTC", ["2026-11-20"]),
        ("Europe/Berlin", ["2026-11-20", "2026-11-21"]),
        ("Pacific/Auckland", ["2026-11-21"]),
    ],
)
def test_an_edition_is_a_day_of_the_services_time_zone(
    settings: Settings, timezone: str, days: list[str]
) -> None:
    local = settings.model_copy(update={"timezone": timezone})
    engine = pipeline.open_store(local)
    # 22:30 and 23:30 UTC: the same day in London, two days in Berlin, the next day in Auckland.
    for number, hour, minute in ((0, 22, 30), (1, 23, 30)):
        at = datetime(2026, 11, 20, hour, minute, tzinfo=UTC)
        pipeline.ingest_paths(engine, [SAMPLE_DUMPS[number]], settings=local, now=at)
    found = editions_by_day(engine)
    assert sorted(found) == days
    assert len(edition_papers(engine, found.values())) == 89 + 47
    engine.dispose()


# --- windows: each paper once, none lost -----------------------------------------------------


def test_a_daily_subscriber_gets_exactly_each_days_new_papers(
    engine: Engine, mail: Settings
) -> None:
    everything = subscribe(engine, mail, "all@example.com", **EVERYTHING)
    segmentation = subscribe(engine, mail, "seg@example.com", "segmentation")
    mailer = MemoryMailer()
    for number in range(4):
        ingest_day(engine, mail, number)
        run(engine, mail, mailer, day(number, hours=3))

    edition = editions_by_day(engine)
    rows = rows_of(engine, everything)
    assert [row.state for row in rows] == ["sent"] * 4
    assert [row.content["days"] for row in rows] == [[d] for d in sorted(edition)]
    assert [row.content["new"] for row in rows] == NEW_PER_DAY
    for row in rows:
        assert row.content["editions"] == [row.edition_id]
        assert set(paper_ids(row)) == edition_papers(engine, [row.edition_id])
    assert_each_paper_once(engine, everything, list(edition.values()))

    hits = pipeline.search_archive(engine, "segmentation", settings=mail, limit=10_000)
    for row in rows_of(engine, segmentation):
        matching = {hit.paper.id for hit in hits} & edition_papers(engine, [row.edition_id])
        assert matching
        assert set(paper_ids(row)) <= matching
        assert len(paper_ids(row)) == min(len(matching), 20)

    expected = [
        f"<digest.{person.id}.{edition_id}@{DOMAIN}>"
        for edition_id in sorted(edition.values())
        for person in (everything, segmentation)
    ]
    assert sorted(m.message_id for m in mailer.sent) == sorted(expected)
    assert len(mailer.attempts) == 8


def test_a_weekly_subscriber_gets_everything_since_their_last_digest_once(
    engine: Engine, mail: Settings
) -> None:
    mailer = MemoryMailer()
    ingest_day(engine, mail, 0)
    run(engine, mail, mailer, day(0, hours=3))
    # Subscribed on day 0 after that run: the first digest is day 1's, the next a week later.
    weekly = subscribe(
        engine, mail, "weekly@example.com", frequency="weekly", now=day(0, hours=4), **EVERYTHING
    )
    for number in range(1, 4):
        ingest_day(engine, mail, number)
        run(engine, mail, mailer, day(number, hours=3))
    assert len(rows_of(engine, weekly)) == 1  # days 2 and 3: not a week yet

    run(engine, mail, mailer, day(7, hours=3))  # six days after the first: still not due
    assert len(rows_of(engine, weekly)) == 1
    run(engine, mail, mailer, day(8, hours=3))
    first, second = rows_of(engine, weekly)
    edition = sorted(editions_by_day(engine).values())
    assert (first.content["editions"], second.content["editions"]) == ([edition[1]], edition[2:])
    assert second.content["new"] == sum(NEW_PER_DAY[2:])
    assert_each_paper_once(engine, weekly, edition[1:])
    assert [m.recipient for m in mailer.sent] == ["weekly@example.com"] * 2


def test_missed_runs_are_caught_up_in_the_next_digest(engine: Engine, mail: Settings) -> None:
    daily = subscribe(engine, mail, "daily@example.com", **EVERYTHING)
    mailer = MemoryMailer()
    for number in range(4):
        ingest_day(engine, mail, number)
        if number != 1:  # nobody ran `digest send` on day 1
            run(engine, mail, mailer, day(number, hours=3))
    edition = sorted(editions_by_day(engine).values())
    rows = rows_of(engine, daily)
    assert [row.content["editions"] for row in rows] == [edition[:1], edition[1:3], edition[3:]]
    assert len(rows[1].content["days"]) == 2
    assert_each_paper_once(engine, daily, edition)


def test_a_failed_digest_is_owed_until_one_is_delivered(engine: Engine, mail: Settings) -> None:
    once = mail.model_copy(update={"max_attempts": 1})  # one temporary failure fails the row
    never_before = subscribe(engine, once, "first@example.com", **EVERYTHING)
    later = subscribe(engine, once, "later@example.com", **EVERYTHING)
    mailer = MemoryMailer()
    mailer.answer("first@example.com", Status.TEMPORARY)  # its very first digest fails
    for number in range(4):
        ingest_day(engine, once, number)
        if number == 1:
            mailer.answer("later@example.com", Status.TEMPORARY)  # the second one fails
        run(engine, once, mailer, day(number, hours=3))

    edition = sorted(editions_by_day(engine).values())
    assert [(row.state, row.content["editions"]) for row in rows_of(engine, never_before)] == [
        ("failed", edition[:1]),
        ("sent", edition[:2]),
        ("sent", edition[2:3]),
        ("sent", edition[3:]),
    ]
    assert [(row.state, row.content["editions"]) for row in rows_of(engine, later)] == [
        ("sent", edition[:1]),
        ("failed", edition[1:2]),
        ("sent", edition[1:3]),
        ("sent", edition[3:]),
    ]
    assert_each_paper_once(engine, never_before, edition)
    assert_each_paper_once(engine, later, edition)


def test_a_digest_still_being_retried_is_not_repeated_by_the_next(
    engine: Engine, mail: Settings
) -> None:
    daily = subscribe(engine, mail, "daily@example.com", **EVERYTHING)
    mailer = MemoryMailer()
    for number in range(4):
        ingest_day(engine, mail, number)
        if number == 1:  # the relay defers day 1's digest for two days of runs
            mailer.answer("daily@example.com", Status.TEMPORARY, Status.TEMPORARY)
        run(engine, mail, mailer, day(number, hours=3))

    rows = rows_of(engine, daily)
    edition = sorted(editions_by_day(engine).values())
    assert [row.content["editions"] for row in rows] == [[ident] for ident in edition]
    assert [row.state for row in rows] == ["sent"] * 4
    assert rows[1].attempts == 3
    assert_each_paper_once(engine, daily, edition)


# --- what a row holds ------------------------------------------------------------------------


def test_without_alerts_the_editions_top_papers_by_upvotes(engine: Engine, mail: Settings) -> None:
    ingest_day(engine, mail, 0)
    ingest_day(engine, mail, 1)  # the dump with upvote counts
    top = subscribe(engine, mail, "top@example.com", max_papers=5)
    (row,) = plan(engine, mail, day(1, hours=3)).rows

    with reading(engine) as session:
        today = papers.papers_since(session, edition_ids=[row.edition_id])
    expected = sorted(today, key=lambda paper: (-(paper.upvotes or 0), paper.id))[:5]
    assert paper_ids(row) == [paper.id for paper in expected]
    assert expected[0].upvotes == max(paper.upvotes or 0 for paper in today) > 0
    assert all(item["trending"] for item in row.content["papers"])
    assert row.state == "pending"
    assert row.subscriber_id == top.id


def test_trending_only_for_those_who_want_it_when_nothing_matched(
    engine: Engine, mail: Settings
) -> None:
    ingest_day(engine, mail, 0)
    wants = subscribe(engine, mail, "wants@example.com", "zebrafish xylophone")
    refuses = subscribe(
        engine, mail, "refuses@example.com", "zebrafish xylophone", include_trending=False
    )
    report = plan(engine, mail, day(0, hours=3))
    assert (report.planned, report.skipped) == (1, 1)
    (wanted,) = rows_of(engine, wants)
    (refused,) = rows_of(engine, refuses)
    assert wanted.state == "pending"
    assert wanted.content["matched"] == 0
    assert len(paper_ids(wanted)) == TRENDING_WHEN_NOTHING_MATCHED
    assert all(item["trending"] for item in wanted.content["papers"])
    assert (refused.state, paper_ids(refused), refused.content["matched"]) == ("skipped", [], 0)

    mailer = MemoryMailer()
    sent = send(engine, mailer, mail, day(0, hours=3))
    assert (sent.claimed, sent.sent) == (1, 1)
    assert [m.recipient for m in mailer.attempts] == ["wants@example.com"]
    assert rows_of(engine, refuses)[0].state == "skipped"


def test_max_papers_cuts_the_best_matches(engine: Engine, mail: Settings) -> None:
    ingest_day(engine, mail, 3)
    few = subscribe(engine, mail, "few@example.com", "skin lesion, dermatology", max_papers=3)
    many = subscribe(engine, mail, "many@example.com", "skin lesion, dermatology")
    plan(engine, mail, day(3, hours=3))
    (cut,) = rows_of(engine, few)
    (full,) = rows_of(engine, many)
    assert len(paper_ids(full)) > 3
    assert len(paper_ids(cut)) == 3
    assert paper_ids(cut) == paper_ids(full)[:3]
    scores = [item["score"] for item in full.content["papers"]]
    assert scores == sorted(scores, reverse=True)


# --- who is due ------------------------------------------------------------------------------


def test_the_send_hour_is_kept_in_the_subscribers_time_zone(engine: Engine, mail: Settings) -> None:
    ingest_day(engine, mail, 0)  # 05:00 UTC on 2026-11-20: the edition of that day
    people = {
        "utc": subscribe(engine, mail, "utc@example.com", send_hour=7),
        "new_york": subscribe(
            engine, mail, "ny@example.com", timezone="America/New_York", send_hour=7
        ),
        "tokyo": subscribe(engine, mail, "tokyo@example.com", timezone="Asia/Tokyo", send_hour=9),
        # West of the service: at 05:00 UTC it is still the evening before in Los Angeles.
        "los_angeles": subscribe(
            engine, mail, "la@example.com", timezone="America/Los_Angeles", send_hour=7
        ),
    }
    names = {person.id: name for name, person in people.items()}

    def due_at(hour: float, **options: object) -> set[str]:
        report = plan(engine, mail, day(0, hours=hour - 5), write=False, **options)
        return {names[row.subscriber_id] for row in report.rows}

    assert due_at(6) == {"tokyo"}  # 15:00 in Tokyo; 01:00 in New York; 22:00 (19th) in LA
    assert due_at(7) == {"tokyo", "utc"}
    assert due_at(11.5) == {"tokyo", "utc"}  # 06:30 in New York
    assert due_at(12) == {"tokyo", "utc", "new_york"}
    assert due_at(14) == {"tokyo", "utc", "new_york"}  # 06:00 in LA
    assert due_at(15) == {"utc", "new_york", "los_angeles"}  # midnight in Tokyo: wait for 9
    assert due_at(24) == {"tokyo", "new_york", "los_angeles"}  # 09:00 next day in Tokyo, 00:00 UTC
    assert due_at(6, respect_send_hour=False) == set(people)


def test_only_active_subscribers_are_planned(engine: Engine, mail: Settings) -> None:
    ingest_day(engine, mail, 0)
    active = subscribe(engine, mail, "active@example.com")
    subscribe(engine, mail, "pending@example.com", status="pending")
    subscribe(engine, mail, "gone@example.com", status="unsubscribed")
    subscribe(engine, mail, "bounced@example.com", status="bounced")
    subscribe(engine, mail, "complained@example.com", status="complained")
    report = plan(engine, mail, day(0, hours=3))
    assert (report.due, report.planned, report.not_due, report.already) == (1, 1, 0, 0)
    assert [row.subscriber_id for row in ledger(engine)] == [active.id]

    mailer = MemoryMailer()
    send(engine, mailer, mail, day(0, hours=3))
    assert [m.recipient for m in mailer.sent] == ["active@example.com"]


def test_planning_an_edition_again_adds_no_rows(engine: Engine, mail: Settings) -> None:
    ingest_day(engine, mail, 0)
    first = subscribe(engine, mail, "one@example.com", "segmentation")
    second = subscribe(engine, mail, "two@example.com")
    report = plan(engine, mail, day(0, hours=3))
    assert (report.due, report.planned, report.already) == (2, 2, 0)
    before = ledger(engine)

    again = plan(engine, mail, day(0, hours=4))
    assert (again.due, again.planned, again.not_due, again.already) == (0, 0, 0, 2)
    assert ledger(engine) == before

    # The unique (subscriber, edition) key holds even for a planner that did not look first.
    with transaction(engine) as session:
        inserted = deliveries.insert_planned(
            session,
            [
                deliveries.PlannedDelivery(
                    subscriber_id=row.subscriber_id,
                    edition_id=row.edition_id,
                    message_id=row.message_id,
                    state="pending",
                    content={},
                )
                for row in before
            ],
            now=day(0, hours=5),
        )
    assert inserted == 0
    assert ledger(engine) == before

    # Someone who left after planning is neither due nor "already planned" any more.
    set_status(engine, second, "unsubscribed", now=day(0, hours=5))
    late = plan(engine, mail, day(0, hours=6))
    assert (late.due, late.not_due, late.already) == (0, 0, 1)

    mailer = MemoryMailer()
    pipeline.deliver(engine, settings=mail, clock=lambda: day(0, hours=7), mailer=mailer)
    pipeline.deliver(engine, settings=mail, clock=lambda: day(0, hours=8), mailer=mailer)
    assert [m.recipient for m in mailer.sent] == ["one@example.com"]
    assert {row.subscriber_id: row.state for row in ledger(engine)} == {
        first.id: "sent",
        second.id: "suppressed",
    }


def test_a_preview_and_a_dry_run_leave_the_ledger_alone(
    engine: Engine, mail: Settings, tmp_path: Path
) -> None:
    ingest_day(engine, mail, 0)
    subscribe(engine, mail, "ada@example.com", "segmentation")
    subscribe(engine, mail, "ada@example.org", "segmentation")  # same name, other domain
    written = pipeline.dry_run(engine, tmp_path / "out", settings=mail, now=day(0, hours=3))
    assert sorted(path.name for path in written) == [
        "ada@example.com.eml",
        "ada@example.com.html",
        "ada@example.org.eml",
        "ada@example.org.html",
    ]
    message = pipeline.preview(engine, "ada@example.com", settings=mail, now=day(0, hours=3))
    assert message.message_id.startswith("<digest.")
    assert ledger(engine) == []

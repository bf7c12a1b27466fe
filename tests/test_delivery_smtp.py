"""Digests through a real SMTP server (aiosmtpd on loopback): the messages as the server
received them, parsed back with the `email` package, and what the ledger does with a 451, a
550, a 5.7.1 policy refusal, a relay that stops halfway, and a run that keeps failing."""

from __future__ import annotations

import logging
import random
import re
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from digest import pipeline
from digest.config import Settings
from digest.deliver.transport import make_mailer
from digest.errors import ConfigError
from digest.models import SubscriberInfo
from digest.pipeline.links import service_secret
from digest.pipeline.planning import plan_deliveries
from digest.pipeline.sending import send_pending
from digest.tokens import Purpose, read_token
from tests.delivery_world import (
    BASE_URL,
    DOMAIN,
    POSTAL,
    Clock,
    Recording,
    bounce_score,
    day,
    ingest_day,
    ingest_items,
    ledger,
    message_ids,
    paper_ids,
    parse,
    rows_of,
    set_status,
    smtp_settings,
    status_of,
    subscribe,
)
from tests.factories import abstract, api_item
from tests.smtpserver import SmtpServer

pytestmark = pytest.mark.smtp

StartServer = Callable[..., SmtpServer]

SCRIPT_TITLE = "<script>alert(1)</script> Lesion segmentation in the wild"
UNICODE_TITLE = "Ünïcödé 🧠 segmentation"
REPOSITORY = "https://github.com/lab/wild-segmentation"


@pytest.fixture
def crafted(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    """Three papers with arXiv ids on day 0: one with markup in its title, one in Unicode."""
    ingest_items(
        engine,
        settings,
        tmp_path,
        api_item(
            "2611.00001",
            SCRIPT_TITLE,
            abstract("lesion segmentation") + f" Code: {REPOSITORY}",
            upvotes=12,
        ),
        api_item("2611.00002", UNICODE_TITLE, abstract("brain atlases"), upvotes=3),
        api_item("2611.00003", "Chest X-ray report generation", abstract("radiology"), upvotes=7),
        now=day(0),
    )


@pytest.fixture
def ada(engine: Engine, settings: Settings, crafted: None) -> SubscriberInfo:
    """A reader whose alert matches two of the crafted papers."""
    return subscribe(engine, settings, "ada@example.com", "segmentation")


@pytest.fixture
def bob(engine: Engine, settings: Settings, crafted: None) -> SubscriberInfo:
    """A reader without alerts (the edition's top papers)."""
    return subscribe(engine, settings, "bob@example.com")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hrefs.extend(value for name, value in attrs if name == "href" and value)


def hrefs(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.hrefs


def token_owner(url: str, purpose: Purpose, settings: Settings) -> int:
    """The subscriber a manage/unsubscribe/feed URL was made for (its token verified)."""
    token = url.split(f"/{_PATHS[purpose]}/", 1)[1].split("/")[0].removesuffix(".atom")
    return read_token(service_secret(settings), purpose, token).subscriber_id


_PATHS = {Purpose.MANAGE: "manage", Purpose.UNSUBSCRIBE: "unsubscribe", Purpose.FEED: "private"}


def received_by(server: SmtpServer, address: str) -> int:
    return sum(message.rcpt_tos == [address] for message in server.messages)


# --- the message ------------------------------------------------------------------------------


def test_a_digest_as_the_server_received_it(
    engine: Engine, settings: Settings, smtp_server: StartServer, ada: SubscriberInfo
) -> None:
    uni = subscribe(engine, settings, "uni@example.com", "Ünïcödé")
    server = smtp_server()
    mail = smtp_settings(settings, server)
    clock = Clock(day(0, hours=3))
    run = pipeline.deliver(engine, settings=mail, clock=clock)
    assert (run.send.sent, len(server.messages)) == (2, 2)

    rows = {row.subscriber_id: row for row in ledger(engine)}
    received = {message.rcpt_tos[0]: message for message in server.messages}
    for person in (ada, uni):
        got = parse(received[person.email].data)
        msg = got.message
        row = rows[person.id]
        assert received[person.email].mail_from == f"digest@{DOMAIN}"
        for name in ("From", "To", "Subject", "Date", "Message-ID"):
            assert len(msg.get_all(name) or []) == 1, name
        (sender,) = msg["From"].addresses
        assert (sender.display_name, sender.addr_spec) == ("Paper Digest", f"digest@{DOMAIN}")
        assert msg["To"] == person.email
        assert msg["Message-ID"] == row.message_id
        assert row.message_id == f"<digest.{person.id}.{row.edition_id}@{DOMAIN}>"
        assert msg["Date"].datetime == clock.now

        listed = re.fullmatch(r"<([^>]+)>,\s*<([^>]+)>", str(msg["List-Unsubscribe"]))
        assert listed is not None
        web, mailto = listed.groups()
        assert web.startswith(f"{BASE_URL}/unsubscribe/")
        assert token_owner(web, Purpose.UNSUBSCRIBE, mail) == person.id
        assert mailto == f"mailto:digest@{DOMAIN}?subject=unsubscribe"
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert msg["Auto-Submitted"] == "auto-generated"
        assert msg["List-Id"] == f"digest <digest.{DOMAIN}>"

        assert msg.get_content_type() == "multipart/alternative"
        parts = list(msg.iter_parts())
        assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
        for part in parts:
            assert part.get_content_charset() == "utf-8"
            assert part["Content-Transfer-Encoding"] in ("quoted-printable", "base64")
        assert max(len(line) for line in got.raw.split(b"\r\n")) <= 998

        text, html, links = got.text, got.html, hrefs(got.html)
        for purpose, prefix in (
            (Purpose.MANAGE, f"{BASE_URL}/manage/"),
            (Purpose.UNSUBSCRIBE, f"{BASE_URL}/unsubscribe/"),
            (Purpose.FEED, f"{BASE_URL}/feeds/private/"),
        ):
            in_text = re.findall(re.escape(prefix) + r"\S+", text)
            in_html = [link for link in links if link.startswith(prefix)]
            assert in_text, (purpose, text)
            assert in_html, (purpose, links)
            assert {token_owner(url, purpose, mail) for url in in_text + in_html} == {person.id}
        for paper in paper_ids(row):
            assert f"{BASE_URL}/papers/{paper}" in text
            assert f"{BASE_URL}/papers/{paper}" in links
        assert POSTAL in text
        assert POSTAL in html

    ada_mail = parse(received["ada@example.com"].data)
    assert "https://arxiv.org/abs/2611.00001" in ada_mail.text
    assert "https://arxiv.org/abs/2611.00001" in hrefs(ada_mail.html)
    assert REPOSITORY in hrefs(ada_mail.html)
    # Markup in a title is text: escaped in the HTML part, as typed in the plain one.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in ada_mail.html
    assert "<script" not in ada_mail.html.lower()
    assert SCRIPT_TITLE in ada_mail.text

    uni_mail = parse(received["uni@example.com"].data)
    assert uni_mail.message["Subject"] == f"digest: {UNICODE_TITLE}"
    raw_subject = re.search(rb"^Subject:.*?(?=\r\n\S)", uni_mail.raw, re.M | re.S)
    assert raw_subject is not None
    assert raw_subject.group().isascii()
    assert b"=?utf-8?" in raw_subject.group()


# --- faults -------------------------------------------------------------------------------------


def test_a_greylisted_digest_is_retried_after_its_backoff_and_sent_once(
    engine: Engine,
    settings: Settings,
    smtp_server: StartServer,
    ada: SubscriberInfo,
    bob: SubscriberInfo,
) -> None:
    server = smtp_server()
    server.answer(ada.email, "451 4.7.1 Greylisted, try again later", times=1)
    mail = smtp_settings(settings, server)
    clock = Clock(day(0, hours=3))
    mailer = Recording(make_mailer(mail))

    def run() -> pipeline.DeliveryRun:
        return pipeline.deliver(
            engine, settings=mail, clock=clock, mailer=mailer, rng=random.Random(7)
        )

    first = run()
    assert (first.send.sent, first.send.retrying, first.send.bounced) == (1, 1, 0)
    (row,) = rows_of(engine, ada)
    assert (row.state, row.attempts) == ("pending", 1)
    assert (row.last_error or "").startswith("451 4.7.1")
    assert bounce_score(engine, ada.email) == 1  # a 4xx about this address counts...
    retry_base = timedelta(seconds=mail.retry_base_seconds)
    assert clock.now + retry_base <= row.next_attempt_at <= clock.now + 2 * retry_base

    clock.set(row.next_attempt_at - timedelta(seconds=1))
    assert run().send.claimed == 0  # not yet
    clock.set(row.next_attempt_at)
    assert run().send.sent == 1
    clock.advance(days=1)
    assert run().send.claimed == 0
    mailer.close()

    (row,) = rows_of(engine, ada)
    assert (row.state, row.attempts, row.last_error) == ("sent", 2, None)
    assert received_by(server, ada.email) == 1
    assert received_by(server, bob.email) == 1
    offers = mailer.offers_to(ada.email)
    assert len(offers) == 2
    # The retry is the same message: the Message-ID fixed at planning, in the header too.
    assert [parse(offer.data).message["Message-ID"] for offer in offers] == [row.message_id] * 2
    assert message_ids(server).count(row.message_id) == 1
    assert status_of(engine, ada) == "active"
    assert bounce_score(engine, ada.email) == 0  # ...until a delivery goes through


def test_a_hard_bounce_suppresses_the_address_and_is_never_retried(
    engine: Engine,
    settings: Settings,
    smtp_server: StartServer,
    tmp_path: Path,
    ada: SubscriberInfo,
    bob: SubscriberInfo,
) -> None:
    server = smtp_server()
    server.answer(ada.email, "550 5.1.1 No such user here")
    mail = smtp_settings(settings, server)
    clock = Clock(day(0, hours=3))
    mailer = Recording(make_mailer(mail))

    first = pipeline.deliver(engine, settings=mail, clock=clock, mailer=mailer)
    assert (first.send.sent, first.send.bounced, first.send.retrying) == (1, 1, 0)
    (row,) = rows_of(engine, ada)
    assert row.state == "bounced"
    assert (row.last_error or "").startswith("550 5.1.1")
    assert status_of(engine, ada) == "bounced"

    clock.advance(days=2)
    assert pipeline.deliver(engine, settings=mail, clock=clock, mailer=mailer).send.claimed == 0
    ingest_items(
        engine,
        settings,
        tmp_path,
        api_item("2611.00009", "Segmentation of everything", abstract("segmenting anything")),
        now=clock.now,
    )
    later = pipeline.deliver(engine, settings=mail, clock=clock, mailer=mailer)
    mailer.close()
    assert (later.plan.due, later.send.sent) == (1, 1)
    assert len(mailer.offers_to(ada.email)) == 1
    assert len(rows_of(engine, ada)) == 1
    assert received_by(server, bob.email) == 2
    assert received_by(server, ada.email) == 0


def test_a_policy_rejection_tells_the_operator_and_keeps_the_reader(
    engine: Engine,
    settings: Settings,
    smtp_server: StartServer,
    caplog: pytest.LogCaptureFixture,
    ada: SubscriberInfo,
) -> None:
    server = smtp_server()
    server.answer(ada.email, "550 5.7.1 Message rejected as spam by policy", at="data", times=1)
    mail = smtp_settings(settings, server)
    clock = Clock(day(0, hours=3))

    with caplog.at_level(logging.ERROR, logger="digest.pipeline.sending"):
        first = pipeline.deliver(engine, settings=mail, clock=clock)
    assert (first.send.sent, first.send.retrying, first.send.bounced) == (0, 1, 0)
    alerts = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("policy" in text and "550 5.7.1" in text for text in alerts), alerts
    assert status_of(engine, ada) == "active"
    (row,) = rows_of(engine, ada)
    assert row.state == "pending"
    assert row.next_attempt_at > clock.now

    clock.set(row.next_attempt_at)
    assert pipeline.deliver(engine, settings=mail, clock=clock).send.sent == 1
    assert received_by(server, ada.email) == 1
    assert rows_of(engine, ada)[0].state == "sent"


def test_a_relay_that_stops_after_40_of_100_messages(
    engine: Engine, settings: Settings, smtp_server: StartServer, crafted: None
) -> None:
    readers = [
        subscribe(engine, settings, f"reader{n:03d}@example.com", max_papers=2).email
        for n in range(100)
    ]
    clock = Clock(day(0, hours=3))
    # One connection: no second message is in flight when the server goes away, so the
    # count is exact (with several, one accepted but unanswered message may be repeated).
    stopping = smtp_server(stop_after=40)
    first = pipeline.deliver(
        engine, settings=smtp_settings(settings, stopping, smtp_connections=1), clock=clock
    )
    assert first.send.sent == len(stopping.messages) == 40
    assert first.send.stopped  # the refused connections opened the circuit breaker
    assert Counter(row.state for row in ledger(engine)) == {"sent": 40, "pending": 60}
    # A refused connection is the relay's trouble, not a soft bounce of 20 readers.
    assert {bounce_score(engine, address) for address in readers} == {0}

    fresh = smtp_server()
    clock.advance(hours=1)  # past every backoff
    second = pipeline.deliver(
        engine, settings=smtp_settings(settings, fresh, smtp_connections=1), clock=clock
    )
    assert second.send.sent == len(fresh.messages) == 60
    everyone = Counter(m.rcpt_tos[0] for m in [*stopping.messages, *fresh.messages])
    assert everyone == dict.fromkeys(readers, 1)
    assert len(set(message_ids(stopping) + message_ids(fresh))) == 100
    assert Counter(row.state for row in ledger(engine)) == {"sent": 100}


def test_the_circuit_breaker_stops_a_run_that_keeps_failing(
    engine: Engine, settings: Settings, smtp_server: StartServer, crafted: None
) -> None:
    readers = [subscribe(engine, settings, f"r{n:02d}@example.com").email for n in range(12)]
    failing = smtp_server()
    for address in readers:
        failing.answer(address, "451 4.3.0 Mail system congested, try later")
    clock = Clock(day(0, hours=3))
    mail = smtp_settings(settings, failing, smtp_connections=1, circuit_breaker_failures=5)

    first = pipeline.deliver(engine, settings=mail, clock=clock)
    assert "5 sends in a row failed" in first.send.stopped
    assert (first.send.sent, first.send.retrying) == (0, 5)
    assert [verb for _, verb in failing.commands].count("RCPT") == 5
    rows = ledger(engine)
    assert {row.state for row in rows} == {"pending"}
    tried = [row for row in rows if row.attempts]
    untried = [row for row in rows if not row.attempts]
    assert len(tried) == 5
    assert all(row.next_attempt_at > clock.now for row in tried)
    assert len(untried) == 7
    assert all(row.next_attempt_at <= clock.now for row in untried)  # due again at once

    healthy = smtp_server()
    clock.advance(hours=1)
    second = pipeline.deliver(
        engine, settings=smtp_settings(settings, healthy, smtp_connections=1), clock=clock
    )
    assert second.send.sent == 12
    assert sorted(m.rcpt_tos[0] for m in healthy.messages) == sorted(readers)


def test_suppression_is_checked_at_send_time(
    engine: Engine,
    settings: Settings,
    smtp_server: StartServer,
    ada: SubscriberInfo,
    bob: SubscriberInfo,
) -> None:
    server = smtp_server()
    mail = smtp_settings(settings, server)
    clock = Clock(day(0, hours=3))
    assert plan_deliveries(engine, settings=mail, now=clock.now).planned == 2
    set_status(engine, ada, "unsubscribed", now=clock.advance(minutes=5))
    mailer = make_mailer(mail)
    report = send_pending(engine, mailer, settings=mail, clock=clock)
    mailer.close()
    assert (report.sent, report.suppressed) == (1, 1)
    assert [m.rcpt_tos for m in server.messages] == [[bob.email]]
    assert rows_of(engine, ada)[0].state == "suppressed"


def test_sending_refuses_to_start_without_a_postal_address(
    engine: Engine, settings: Settings, smtp_server: StartServer, ada: SubscriberInfo
) -> None:
    server = smtp_server()
    mail = smtp_settings(settings, server, postal_address="  ")
    with pytest.raises(ConfigError, match="postal_address is empty"):
        pipeline.deliver(engine, settings=mail, clock=Clock(day(0, hours=3)))
    mailer = make_mailer(mail)
    with pytest.raises(ConfigError, match="postal_address is empty"):
        send_pending(engine, mailer, settings=mail, clock=Clock(day(0, hours=3)))
    mailer.close()
    assert ledger(engine) == []
    assert server.connections == 0


# --- the main path on both databases ----------------------------------------------------------


def test_two_days_of_digests_on_sqlite_and_postgresql(
    any_engine: Engine, settings: Settings, smtp_server: StartServer
) -> None:
    engine = any_engine
    people = [
        subscribe(engine, settings, "seg@example.com", "segmentation"),
        subscribe(engine, settings, "top@example.com", max_papers=5),
        subscribe(engine, settings, "none@example.com", "zebrafish", include_trending=False),
    ]
    server = smtp_server()
    mail = smtp_settings(settings, server)
    for number in range(2):
        ingest_day(engine, settings, number)
        clock = Clock(day(number, hours=3))
        run = pipeline.deliver(engine, settings=mail, clock=clock)
        assert (run.plan.planned, run.plan.skipped, run.send.sent) == (2, 1, 2)
        again = pipeline.deliver(engine, settings=mail, clock=clock)
        assert (again.plan.already, again.send.claimed) == (3, 0)

    assert Counter(row.state for row in ledger(engine)) == {"sent": 4, "skipped": 2}
    ids = message_ids(server)
    assert len(ids) == len(set(ids)) == 4
    assert sorted(ids) == sorted(row.message_id for row in ledger(engine) if row.state == "sent")
    assert Counter(m.rcpt_tos[0] for m in server.messages) == {
        people[0].email: 2,
        people[1].email: 2,
    }

"""Sending what the ledger holds: claim due rows, compose, send, record each outcome.

Every outcome is committed as soon as the transport reports it, so a crash between the
relay's acceptance and our commit repeats at most the messages then in flight (one per
connection). Rows a dead worker left in `sending` are taken again after a lease.
Suppression is checked at send time, not only at planning.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from digest.config import Settings
from digest.deliver.mailer import Mailer, OutgoingMessage, SendOutcome, Status
from digest.deliver.policy import CircuitBreaker, next_attempt
from digest.errors import ConfigError
from digest.pipeline.compose import Composer
from digest.store import deliveries, papers, subscribers
from digest.store.db import reading, transaction

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=15)  # a row `sending` for longer belongs to a dead worker
SOFT_BOUNCE_LIMIT = 10  # temporary failures in a row before an address is suppressed


@dataclass
class SendReport:
    """What one sending run did."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    bounced: int = 0
    suppressed: int = 0
    stopped: str = ""  # why the circuit breaker stopped the run
    errors: list[str] = field(default_factory=list)


def require_sendable(settings: Settings) -> None:
    """Refuse to send without what the law and the standards require in every mail."""
    if not settings.postal_address.strip():
        raise ConfigError(
            "postal_address is empty: set the operator's postal address before sending "
            "(DIGEST_POSTAL_ADDRESS or postal_address in the config file)"
        )


def send_pending(
    engine: Engine,
    mailer: Mailer,
    *,
    settings: Settings,
    clock: Callable[[], datetime],
    rng: random.Random | None = None,
    limit: int | None = None,
    batch: int = 200,
) -> SendReport:
    """Send every due ledger row (up to `limit`); stops early if the circuit breaker opens."""
    require_sendable(settings)
    rng = rng or random.Random()
    report = SendReport()
    breaker = CircuitBreaker(settings.circuit_breaker_failures)
    composer = Composer(settings)
    group = max(settings.smtp_connections, 1) if settings.mail_transport == "smtp" else 50
    while not breaker.open and (limit is None or report.claimed < limit):
        now = clock()
        size = batch if limit is None else min(batch, limit - report.claimed)
        with transaction(engine) as session:
            ids = deliveries.claim(session, now=now, lease_before=now - LEASE, limit=size)
        if not ids:
            break
        report.claimed += len(ids)
        messages = _compose(engine, composer, ids, now=now, report=report)
        pending = list(messages)
        while pending and not breaker.open:
            chunk, pending = pending[:group], pending[group:]
            for outcome in mailer.send(chunk):
                _record(engine, outcome, settings=settings, now=clock(), rng=rng, report=report)
                if breaker.record(outcome.status):
                    report.stopped = breaker.reason
        if pending:  # the breaker opened: what was not offered goes back, untried
            with transaction(engine) as session:
                deliveries.release(session, [m.key for m in pending], now=clock())
    if report.stopped:
        log.error("send: stopped by the circuit breaker: %s", report.stopped)
    log.info(
        "send: claimed=%d sent=%d retrying=%d failed=%d bounced=%d suppressed=%d",
        report.claimed,
        report.sent,
        report.retrying,
        report.failed,
        report.bounced,
        report.suppressed,
    )
    return report


def _compose(
    engine: Engine, composer: Composer, ids: Sequence[int], *, now: datetime, report: SendReport
) -> list[OutgoingMessage]:
    with reading(engine) as session:
        rows = deliveries.get_rows(session, ids)
        people = subscribers.get_many(session, [row.subscriber_id for row in rows])
        wanted = {int(item["id"]) for row in rows for item in row.content.get("papers", [])}
        stored = papers.get_many(session, wanted)
    messages = []
    for row in rows:
        person = people.get(row.subscriber_id)
        if person is None or person.status != "active":
            # Unsubscribed or bounced since planning: the check that counts is this one.
            with transaction(engine) as session:
                deliveries.mark(
                    session,
                    row.id,
                    state="suppressed",
                    now=now,
                    error=f"subscriber is {person.status if person else 'gone'}",
                )
            report.suppressed += 1
            continue
        try:
            messages.append(
                composer.message(
                    person, row.content, stored, message_id=row.message_id, now=now, key=row.id
                )
            )
        except ValueError as exc:  # an address or value that cannot make a safe message
            with transaction(engine) as session:
                deliveries.mark(session, row.id, state="failed", now=now, error=str(exc))
            report.failed += 1
            report.errors.append(f"delivery {row.id}: {exc}")
    return messages


def _record(
    engine: Engine,
    outcome: SendOutcome,
    *,
    settings: Settings,
    now: datetime,
    rng: random.Random,
    report: SendReport,
) -> None:
    detail = outcome.detail
    if outcome.code is not None and not detail.startswith(str(outcome.code)):
        detail = f"{outcome.code} {detail}".strip()  # transports usually quote the reply whole
    with transaction(engine) as session:
        found = deliveries.get_rows(session, [outcome.key])
        if not found:  # the subscriber was deleted while their message was in flight
            log.info("send: delivery %d vanished before its outcome was recorded", outcome.key)
            return
        row = found[0]
        if outcome.status is Status.SENT:
            deliveries.mark(session, row.id, state="sent", now=now)
            subscribers.clear_soft_bounces(session, row.subscriber_id)
            report.sent += 1
        elif outcome.status is Status.PERMANENT:
            # A hard bounce: never retried, and the address is suppressed at once.
            deliveries.mark(session, row.id, state="bounced", now=now, error=detail)
            subscribers.set_status(
                session, row.subscriber_id, status="bounced", now=now, reason=detail[:200]
            )
            report.bounced += 1
        else:
            if outcome.status is Status.POLICY:
                # The relay refused *us* (5.7.x): the operator must act; the reader stays.
                log.error("send: policy rejection for delivery %d: %s", row.id, detail)
            elif _about_the_address(outcome):
                score = subscribers.add_soft_bounce(session, row.subscriber_id)
                if score >= SOFT_BOUNCE_LIMIT:
                    subscribers.set_status(
                        session,
                        row.subscriber_id,
                        status="bounced",
                        now=now,
                        reason=f"{score} temporary failures in a row: {detail}"[:200],
                    )
            if row.attempts >= settings.max_attempts:
                deliveries.mark(session, row.id, state="failed", now=now, error=detail)
                report.failed += 1
            else:
                when = next_attempt(
                    row.attempts, now=now, base_seconds=settings.retry_base_seconds, rng=rng
                )
                deliveries.mark(
                    session, row.id, state="pending", now=now, error=detail, next_attempt_at=when
                )
                report.retrying += 1


def _about_the_address(outcome: SendOutcome) -> bool:
    """Whether a temporary failure counts against the reader's address: a 4xx reply to this
    message does; a refused or dropped connection, a timeout or a 421 is the relay's trouble,
    and counting it would suppress every reader a long relay outage touched."""
    return outcome.code is not None and 400 <= outcome.code < 500 and outcome.code != 421

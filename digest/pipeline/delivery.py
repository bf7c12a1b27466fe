"""Delivery as the surfaces use it: plan and send a day, dry runs, previews, the ledger."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from digest.config import Settings
from digest.deliver.mailer import Mailer, OutgoingMessage
from digest.deliver.message import make_message_id
from digest.deliver.transport import make_mailer
from digest.errors import NotFoundError
from digest.pipeline.compose import Composer
from digest.pipeline.planning import PlanReport, mail_domain, plan_deliveries
from digest.pipeline.sending import SendReport, require_sendable, send_pending
from digest.pipeline.subscribers import find_subscriber
from digest.store import deliveries, papers, subscribers
from digest.store.db import reading
from digest.store.deliveries import DeliveryRow

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9@._-]+")


@dataclass(frozen=True, slots=True)
class DeliveryRun:
    """Planning and sending of one run."""

    plan: PlanReport
    send: SendReport


def deliver(
    engine: Engine,
    *,
    settings: Settings,
    clock: Callable[[], datetime],
    mailer: Mailer | None = None,
    edition_day: date | None = None,
    respect_send_hour: bool = True,
    rng: random.Random | None = None,
) -> DeliveryRun:
    """Plan the due digests of the newest edition (or a day's), then send what is due."""
    require_sendable(settings)
    plan = plan_deliveries(
        engine,
        settings=settings,
        now=clock(),
        edition_day=edition_day,
        respect_send_hour=respect_send_hour,
    )
    own = mailer is None
    transport = mailer or make_mailer(settings)
    try:
        sent = send_pending(engine, transport, settings=settings, clock=clock, rng=rng)
    finally:
        if own:
            transport.close()
    return DeliveryRun(plan=plan, send=sent)


def dry_run(
    engine: Engine,
    folder: Path,
    *,
    settings: Settings,
    now: datetime,
    edition_day: date | None = None,
    respect_send_hour: bool = True,
) -> list[Path]:
    """Plan and render the due digests into `folder` (.eml and .html each); changes nothing."""
    plan = plan_deliveries(
        engine,
        settings=settings,
        now=now,
        edition_day=edition_day,
        respect_send_hour=respect_send_hour,
        write=False,
    )
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    composer = Composer(settings)
    rows = [row for row in plan.rows if row.state == "pending"]
    with reading(engine) as session:
        people = subscribers.get_many(session, [row.subscriber_id for row in rows])
        stored = papers.get_many(
            session, {int(item["id"]) for row in rows for item in row.content["papers"]}
        )
    for row in rows:
        person = people[row.subscriber_id]
        view = composer.view(person, row.content, stored)
        rendered = composer.render(view)
        message = composer.message(person, row.content, stored, message_id=row.message_id, now=now)
        # Not Path.with_suffix: it would take ".com" for a suffix and give ada@example.com
        # and ada@example.org one file.
        name = _UNSAFE_NAME.sub("_", person.email)
        written.append(_write(folder / f"{name}.eml", message.data))
        written.append(_write(folder / f"{name}.html", rendered.html.encode("utf-8")))
    return written


def preview(engine: Engine, email: str, *, settings: Settings, now: datetime) -> OutgoingMessage:
    """The complete message this subscriber would get for the newest edition, whether or not
    it was already sent; the ledger is not touched."""
    person = find_subscriber(engine, email)
    plan = plan_deliveries(engine, settings=settings, now=now, only=person, write=False, fresh=True)
    if plan.edition_id is None or not plan.rows:
        raise NotFoundError("no edition to preview yet: ingest a dump first")
    row = plan.rows[0]
    with reading(engine) as session:
        stored = papers.get_many(session, {int(item["id"]) for item in row.content["papers"]})
    composer = Composer(settings)
    message_id = make_message_id(person.id, plan.edition_id, domain=mail_domain(settings))
    return composer.message(person, row.content, stored, message_id=message_id, now=now)


def ledger(engine: Engine, *, state: str | None = None, limit: int = 100) -> list[DeliveryRow]:
    """The newest ledger rows."""
    with reading(engine) as session:
        return deliveries.list_rows(session, state=state, limit=limit)


def ledger_counts(engine: Engine) -> dict[str, int]:
    """Ledger rows per state."""
    with reading(engine) as session:
        return deliveries.count_by_state(session)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path

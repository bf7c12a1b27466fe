"""The whole daily job in one function: the CLI, the scheduler and the web app call this.

ingest the inbox -> (the day's edition forms as new papers arrive) -> plan and send the
digests that are due -> write the static feeds. Each stage logs one line of counts; a failing
stage is reported and the later ones still run (feeds are worth writing even if mail failed).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine

from digest.config import Settings
from digest.deliver.mailer import Mailer
from digest.pipeline.database import open_store
from digest.pipeline.delivery import deliver
from digest.pipeline.feeds import write_static_feeds
from digest.pipeline.ingest import ingest_inbox
from digest.store.locks import exclusive

log = logging.getLogger(__name__)


@dataclass
class StageReport:
    """One stage's outcome."""

    name: str
    ok: bool = True
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None


@dataclass
class DailyReport:
    """What the daily job did, stage by stage."""

    started: datetime
    stages: list[StageReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every stage succeeded."""
        return all(stage.ok for stage in self.stages)

    def stage(self, name: str) -> StageReport | None:
        """The report of one stage, by name."""
        return next((stage for stage in self.stages if stage.name == name), None)


def run_daily(
    settings: Settings,
    now: datetime,
    *,
    engine: Engine | None = None,
    mailer: Mailer | None = None,
    clock: Callable[[], datetime] | None = None,
    respect_send_hour: bool = True,
    rng: random.Random | None = None,
) -> DailyReport:
    """Ingest what waits in the inbox, send the due digests, write the static feeds."""
    engine = engine or open_store(settings)
    clock = clock or (lambda: now)
    report = DailyReport(started=now)
    with exclusive(engine) as held:
        if not held:
            report.stages.append(
                StageReport("lock", ok=False, error="another instance is running the daily job")
            )
            log.warning("daily: another instance holds the lock; nothing done")
            return report
        report.stages.append(_ingest(engine, settings, now))
        report.stages.append(
            _deliver(engine, settings, clock, mailer, respect_send_hour=respect_send_hour, rng=rng)
        )
        report.stages.append(_feeds(engine, settings))
    log.info("daily: ok=%s stages=%s", report.ok, ",".join(s.name for s in report.stages))
    return report


def _ingest(engine: Engine, settings: Settings, now: datetime) -> StageReport:
    stage = StageReport("ingest")
    try:
        results = ingest_inbox(engine, settings.inbox_dir, settings=settings, now=now)
    except Exception as exc:  # a stage's failure is reported, never fatal to the job
        log.exception("daily: ingest failed")
        return StageReport("ingest", ok=False, error=str(exc))
    stage.counts = {
        "files": len(results),
        "ingested": sum(r.status == "ingested" for r in results),
        "skipped": sum(r.status == "skipped" for r in results),
        "rejected": sum(r.status == "rejected" for r in results),
        "new": sum(r.new for r in results),
        "known": sum(r.known for r in results),
    }
    # A rejected dump is kept in rejected/ with its reason; the job itself did its work.
    log.info("daily: ingest %s", _counts(stage.counts))
    return stage


def _deliver(
    engine: Engine,
    settings: Settings,
    clock: Callable[[], datetime],
    mailer: Mailer | None,
    *,
    respect_send_hour: bool,
    rng: random.Random | None,
) -> StageReport:
    try:
        run = deliver(
            engine,
            settings=settings,
            clock=clock,
            mailer=mailer,
            respect_send_hour=respect_send_hour,
            rng=rng,
        )
    except Exception as exc:
        log.exception("daily: delivery failed")
        return StageReport("deliver", ok=False, error=str(exc))
    counts = {
        "planned": run.plan.planned,
        "skipped": run.plan.skipped,
        "not_due": run.plan.not_due,
        "sent": run.send.sent,
        "retrying": run.send.retrying,
        "failed": run.send.failed,
        "bounced": run.send.bounced,
        "suppressed": run.send.suppressed,
    }
    stage = StageReport("deliver", counts=counts)
    if run.send.stopped:
        stage.ok = False
        stage.error = f"stopped by the circuit breaker: {run.send.stopped}"
    log.info("daily: deliver %s", _counts(counts))
    return stage


def _feeds(engine: Engine, settings: Settings) -> StageReport:
    try:
        written = write_static_feeds(engine, settings=settings)
    except Exception as exc:
        log.exception("daily: feeds failed")
        return StageReport("feeds", ok=False, error=str(exc))
    log.info("daily: feeds written=%d", len(written))
    return StageReport("feeds", counts={"written": len(written)})


def _counts(counts: dict[str, int]) -> str:
    return " ".join(f"{name}={value}" for name, value in counts.items())

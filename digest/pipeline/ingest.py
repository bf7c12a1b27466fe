"""The orchestrator: the CLI, the scheduler and the web app call these functions, nothing below.

Each function wires pure stages (decode, parse, reconcile) to the store and the file system.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from digest import sources
from digest.config import Settings
from digest.errors import InputError
from digest.ingest.decode import decode_bytes
from digest.ingest.detect import parse_listing
from digest.ingest.identity import content_hash
from digest.ingest.reconcile import lookup_keys, reconcile
from digest.models import IngestResult, KnownPaper, NewPaper, SeenPaper, SourceFormat
from digest.pipeline.database import first_line
from digest.rank.analyzer import ANALYZER_VERSION
from digest.rank.stats import count_terms
from digest.store import editions, listings, papers, sightings
from digest.store import terms as term_stats
from digest.store.db import reading, transaction

log = logging.getLogger(__name__)


def local_day(now: datetime, settings: Settings) -> date:
    """The service's calendar day at `now`."""
    return now.astimezone(ZoneInfo(settings.timezone)).date()


def ingest_bytes(
    engine: Engine,
    data: bytes,
    *,
    source: str,
    settings: Settings,
    now: datetime,
    fmt: SourceFormat | None = None,
) -> IngestResult:
    """Ingest one source in one transaction; a refused source changes nothing."""
    try:
        decoded = decode_bytes(data, source=source, max_bytes=settings.max_dump_bytes)
        listing = parse_listing(decoded, source=source, today=local_day(now, settings), fmt=fmt)
    except InputError as exc:
        log.warning("ingest: file=%s rejected: %s", source, exc.reason)
        return IngestResult(file=source, status="rejected", error=exc.reason)
    except Exception as exc:
        # The parsers are pure, so anything else they raise was provoked by this content (JSON
        # nested too deep, say). Refusing the file keeps it from stopping every later inbox run.
        reason = f"could not be parsed ({type(exc).__name__}: {first_line(exc)})"
        log.warning("ingest: file=%s rejected: %s", source, reason)
        log.debug("ingest: parser failure on %s", source, exc_info=True)
        return IngestResult(file=source, status="rejected", error=reason)
    digest_of_content = content_hash(decoded.text.encode("utf-8"))
    entries = len(listing.papers)
    try:
        with transaction(engine) as session:
            earlier = listings.find_by_hash(session, digest_of_content)
            if earlier is not None:
                reason = f"already ingested as listing {earlier.id} ({earlier.source})"
                log.info("ingest: file=%s skipped: %s", source, reason)
                return IngestResult(
                    file=source,
                    status="skipped",
                    entries=entries,
                    known=entries,
                    warnings=(reason,),
                    listing_id=earlier.id,
                )
            arxiv_ids, title_keys, hashes = lookup_keys(listing.papers)
            known = papers.find_candidates(
                session, arxiv_ids=arxiv_ids, title_keys=title_keys, abstract_hashes=hashes
            )
            plan = reconcile(listing.papers, known)
            seen = plan.seen
            warnings = listing.warnings + plan.warnings
            # Entries that reconcile found to be one paper count once, like the parser's
            # duplicates: entries == new + known.
            entries = len(plan.new) + len(plan.seen)
            row = listings.add_listing(
                session,
                content_hash=digest_of_content,
                source=source,
                fmt=str(listing.format),
                listing_day=listing.listing_day,
                warnings=list(warnings),
                now=now,
            )
            assert row.id is not None
            edition_id = (
                editions.get_or_create(session, day=local_day(now, settings), now=now)
                if plan.new
                else None
            )
            new_ids = (
                papers.add_papers(
                    session, plan.new, listing_id=row.id, edition_id=edition_id, now=now
                )
                if edition_id is not None
                else []
            )
            if plan.new:
                _count_terms(session, plan.new)
            _recount_completed_abstracts(session, seen, known)
            papers.apply_updates(session, seen)
            appearances = [
                (paper_id, new.parsed.position, new.parsed.upvotes)
                for paper_id, new in zip(new_ids, plan.new, strict=True)
            ] + [
                (sighting.paper_id, sighting.parsed.position, sighting.parsed.upvotes)
                for sighting in seen
            ]
            sightings.add_sightings(session, appearances, listing_id=row.id, now=now)
            listings.set_counts(
                session,
                row,
                entries=entries,
                new=len(plan.new),
                known=len(plan.seen),
                edition_id=edition_id,
            )
    except IntegrityError as exc:
        with reading(engine) as session:
            earlier = listings.find_by_hash(session, digest_of_content)
        if earlier is None:
            # Not a race on the same content: this listing conflicts with stored rows. The
            # transaction rolled back, so refuse it and say why instead of calling it a skip.
            reason = f"the database refused it: {first_line(exc)}"
            log.error("ingest: file=%s rejected: %s", source, reason)
            return IngestResult(file=source, status="rejected", error=reason)
        # Another process ingested the same content between our check and our insert.
        log.info("ingest: file=%s skipped: ingested concurrently", source)
        return IngestResult(
            file=source,
            status="skipped",
            entries=entries,
            known=entries,
            warnings=(f"ingested concurrently as listing {earlier.id} ({earlier.source})",),
            listing_id=earlier.id,
        )
    log.info(
        "ingest: file=%s format=%s entries=%d new=%d seen=%d warnings=%d",
        source,
        listing.format,
        entries,
        len(plan.new),
        len(plan.seen),
        len(warnings),
    )
    return IngestResult(
        file=source,
        status="ingested",
        entries=entries,
        new=len(plan.new),
        known=len(plan.seen),
        warnings=warnings,
        listing_id=row.id,
    )


def _count_terms(session: Session, new: Sequence[NewPaper]) -> None:
    """Add the new papers to the archive's term statistics, in the ingest transaction."""
    counts = count_terms((paper.parsed.title, paper.parsed.abstract) for paper in new)
    term_stats.add_counts(
        session,
        counts.df,
        documents=counts.documents,
        title_terms=counts.title_terms,
        abstract_terms=counts.abstract_terms,
        analyzer=ANALYZER_VERSION,
    )


def _recount_completed_abstracts(
    session: Session, seen: Sequence[SeenPaper], known: Sequence[KnownPaper]
) -> None:
    """A cut-off abstract completed by a later listing: move its term counts along."""
    before = {paper.id: paper for paper in known}
    old: list[tuple[str, str]] = []
    new: list[tuple[str, str]] = []
    for sighting in seen:
        abstract = sighting.updates.get("abstract")
        if isinstance(abstract, str) and sighting.paper_id in before:
            stored = before[sighting.paper_id]
            old.append((stored.title, stored.abstract))
            new.append((stored.title, abstract))
    if not new:
        return
    removed, added = count_terms(old), count_terms(new)
    delta = added.df.copy()
    delta.subtract(removed.df)
    term_stats.add_counts(
        session,
        delta,
        documents=0,
        title_terms=0,
        abstract_terms=added.abstract_terms - removed.abstract_terms,
        analyzer=ANALYZER_VERSION,
    )


def ingest_paths(
    engine: Engine,
    paths: Iterable[Path],
    *,
    settings: Settings,
    now: datetime,
    fmt: SourceFormat | None = None,
    on_result: Callable[[IngestResult], None] | None = None,
) -> list[IngestResult]:
    """Ingest files (and folders' files) in order; a bad file never stops the others."""
    results = []
    for path in sources.expand_paths(list(paths)):
        result = _ingest_file(engine, path, settings=settings, now=now, fmt=fmt)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def ingest_inbox(
    engine: Engine,
    inbox: Path,
    *,
    settings: Settings,
    now: datetime,
    fmt: SourceFormat | None = None,
    on_result: Callable[[IngestResult], None] | None = None,
) -> list[IngestResult]:
    """Ingest every file waiting in the inbox, then move it to done/ or rejected/."""
    results = []
    for path in sources.inbox_files(inbox):
        result = _ingest_file(engine, path, settings=settings, now=now, fmt=fmt)
        if result.status == "rejected":
            sources.move_rejected(path, reason=result.error or "rejected", now=now)
        else:
            sources.move_done(path, now=now)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def _ingest_file(
    engine: Engine, path: Path, *, settings: Settings, now: datetime, fmt: SourceFormat | None
) -> IngestResult:
    try:
        data = sources.read_source(path, max_bytes=settings.max_dump_bytes)
    except InputError as exc:
        log.warning("ingest: file=%s rejected: %s", path, exc.reason)
        return IngestResult(file=str(path), status="rejected", error=exc.reason)
    return ingest_bytes(engine, data, source=str(path), settings=settings, now=now, fmt=fmt)

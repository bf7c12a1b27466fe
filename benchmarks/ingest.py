"""Ingest benchmarks: parse throughput, and reconcile cost against archives of growing size.

Run `.venv/bin/python benchmarks/ingest.py` (full, a few minutes; the first run also seeds a
million-paper SQLite archive, cached in the temp folder) or `--quick` (seconds, a smoke run).
Every paper is built from the real sample dumps in tests/data/dumps/, made distinct by a
variant suffix. SQL stays in digest/store/: this script calls the store and the pipeline only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from benchmarks.machine import describe
from sqlmodel import Session

from digest.config import Settings
from digest.ingest.decode import decode_bytes
from digest.ingest.detect import parse_listing
from digest.ingest.identity import abstract_fingerprint, paper_key, title_key
from digest.models import NewPaper, ParsedListing, ParsedPaper
from digest.pipeline import gather_stats, ingest_bytes
from digest.store import editions, listings, papers
from digest.store.db import make_engine, migrate, transaction

ROOT = Path(__file__).resolve().parent.parent
DUMPS = ROOT / "tests" / "data" / "dumps"
MIGRATIONS = ROOT / "digest" / "store" / "migrations" / "versions"
NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
SEED_VERSION = "1"  # bump when the seeded rows change shape, to invalidate cached archives
PAPERS_PER_DAY = 500  # seeded archives get one listing and one edition per 500 papers
PAPERS_PER_COMMIT = 20_000  # 40 seeded days per transaction


@dataclass(frozen=True)
class Mode:
    """How much to measure."""

    name: str
    dump_rounds: int  # copies of the four sample dumps in the synthetic parse dump
    parse_runs: int
    archives: tuple[int, ...]
    listings: tuple[tuple[int, int], ...]  # (new, known) measured at every archive size
    growth: tuple[int, ...]  # all-new listing sizes measured at the largest archive only
    runs: int


FULL = Mode("full", 50, 5, (10_000, 100_000, 1_000_000), ((2000, 0), (1000, 1000)), (500, 5000), 3)
QUICK = Mode("quick", 3, 2, (1_000, 3_000), ((200, 0), (100, 100)), (50, 500), 1)


# -- inputs --------------------------------------------------------------------------------


def sample_papers() -> list[ParsedPaper]:
    """The distinct papers of the sample dumps, in file order (313 of them)."""
    found: dict[str, ParsedPaper] = {}
    for path in sorted(DUMPS.glob("*.txt")):
        for paper in _parse(path.read_bytes(), source=path.name).papers:
            found.setdefault(title_key(paper.title), paper)
    return list(found.values())


def _parse(data: bytes, *, source: str) -> ParsedListing:
    decoded = decode_bytes(data, source=source, max_bytes=len(data) + 1)
    return parse_listing(decoded, source=source, today=NOW.date())


def build_parse_dump(rounds: int) -> tuple[bytes, int]:
    """A dump of the four sample dumps' raw lines repeated `rounds` times, titles made distinct."""
    parts: list[str] = []
    expected = 0
    for index, path in enumerate(sorted(DUMPS.glob("*.txt"))):
        data = path.read_bytes()
        text = decode_bytes(data, source=path.name, max_bytes=len(data) + 1).text
        titles = {paper.title for paper in _parse(data, source=path.name).papers}
        expected += len(titles) * rounds
        lines = text.split("\n")
        start = next(i for i, line in enumerate(lines) if _title_of(line, titles))
        if index == 0:
            parts.append("\n".join(lines[:start]))  # the page header, once
        body = lines[start:]
        for copy in range(rounds):
            parts.extend(
                f"{title} v{copy}-{index}" if (title := _title_of(line, titles)) else line
                for line in body
            )
    return "\n".join(parts).encode("utf-8"), expected


def _title_of(line: str, titles: set[str]) -> str | None:
    """The title on this raw line; one dump glues `Subscribe` to its first title."""
    clean = " ".join(line.split())
    for candidate in (clean, clean.removeprefix("Subscribe").lstrip()):
        if candidate in titles:
            return candidate
    return None


def variant(bases: list[ParsedPaper], index: int) -> ParsedPaper:
    """Paper number `index`: a sample paper with a distinct title and abstract."""
    base = bases[index % len(bases)]
    return replace(
        base, title=f"{base.title} v{index // len(bases)}", abstract=f"{base.abstract} [{index}]"
    )


def as_new(paper: ParsedPaper) -> NewPaper:
    """The identity the pipeline would compute for a new paper."""
    return NewPaper(
        parsed=paper,
        key=paper_key(arxiv_id=paper.arxiv_id, title=paper.title),
        title_key=title_key(paper.title),
        abstract_hash=abstract_fingerprint(paper.abstract),
    )


def render_listing(entries: list[ParsedPaper], *, day: date) -> bytes:
    """A text dump in the shape of the samples: header, title, abstract, optional metadata."""
    lines = ["Daily Papers", "", f"{day:%b} {day.day}", ""]
    for paper in entries:
        lines += [paper.title, "", paper.abstract, ""]
        if paper.published is not None:
            if paper.author_count is not None:
                lines.append(f"  • {paper.author_count} authors")
            elif paper.organization:
                lines.append(paper.organization)
            shown = f"{paper.published:%b} {paper.published.day}, {paper.published.year}"
            if paper.upvotes is not None:
                shown += f" {paper.upvotes}"
            lines += ["·", shown, ""]
    return "\n".join(lines).encode("utf-8")


# -- the seeded archive ---------------------------------------------------------------------


def seeded_archive(size: int, bases: list[ParsedPaper], *, cache: Path) -> Path:
    """A migrated SQLite file holding papers 0..size-1, seeded once and kept in `cache`."""
    cache.mkdir(parents=True, exist_ok=True)
    stem = f"papers-{size}-"
    path = cache / f"{stem}{_seed_fingerprint(bases)}.db"
    if path.exists():
        return path
    for stale in cache.glob(f"{stem}*"):
        stale.unlink()  # seeded by an older schema or identity function, or interrupted
    partial = cache / f"{stem}partial-{os.getpid()}.db"
    started = time.perf_counter()
    engine = make_engine(f"sqlite:///{partial}")
    migrate(engine)
    # Several days per transaction: each commit may checkpoint the WAL, with an fsync.
    for block in range(0, size, PAPERS_PER_COMMIT):
        with transaction(engine) as session:
            for first in range(block, min(size, block + PAPERS_PER_COMMIT), PAPERS_PER_DAY):
                _seed_day(session, bases, first=first, stop=min(size, first + PAPERS_PER_DAY))
    if gather_stats(engine).papers != size:
        raise SystemExit(f"seeding {partial} did not store {size} papers")
    engine.dispose()  # the last connection checkpoints the WAL into the file
    partial.rename(path)
    print(f"seeded {size:,} papers in {time.perf_counter() - started:.1f} s -> {path}", flush=True)
    return path


def _seed_day(session: Session, bases: list[ParsedPaper], *, first: int, stop: int) -> None:
    """Papers first..stop-1 as one day's listing and edition."""
    day = date(2020, 1, 1) + timedelta(days=first // PAPERS_PER_DAY)
    stamp = datetime(day.year, day.month, day.day, 6, tzinfo=UTC)
    listing = listings.add_listing(
        session,
        content_hash=f"seed-{first}",
        source="benchmark seed",
        fmt="text",
        listing_day=day,
        warnings=[],
        now=stamp,
    )
    assert listing.id is not None
    edition = editions.get_or_create(session, day=day, now=stamp)
    batch = (as_new(variant(bases, i)) for i in range(first, stop))
    papers.bulk_insert(session, batch, listing_id=listing.id, edition_id=edition, now=stamp)


def _seed_fingerprint(bases: list[ParsedPaper]) -> str:
    """Changes when the schema, the samples or the identity functions would seed other rows."""
    digest = hashlib.sha256(f"{SEED_VERSION}:{PAPERS_PER_DAY}:{len(bases)}".encode())
    for migration in sorted(MIGRATIONS.glob("*.py")):
        digest.update(migration.read_bytes())
    for index in (0, 1, len(bases) + 7):
        new = as_new(variant(bases, index))
        digest.update(f"{new.key}|{new.title_key}|{new.abstract_hash}".encode())
    return digest.hexdigest()[:12]


def _working_copy(seed: Path, folder: Path) -> Path:
    target = folder / "work.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(seed, target)
    # Flush the copy now: otherwise the first checkpoint's fsync inside the timed ingest would
    # write the whole freshly copied file to disk, a cost a long-lived database never pays.
    with target.open("rb+") as handle:
        os.fsync(handle.fileno())
    return target


# -- measurements ---------------------------------------------------------------------------


def timed(action: Callable[[], object], runs: int) -> list[float]:
    """Wall times of `runs` calls."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return times


def bench_parse(mode: Mode) -> dict[str, float]:
    """Decode + parse throughput on a large synthetic text dump."""
    data, expected = build_parse_dump(mode.dump_rounds)
    entries = len(_parse(data, source="synthetic").papers)
    if entries != expected:
        raise SystemExit(f"synthetic dump parsed into {entries} entries, expected {expected}")
    times = timed(lambda: _parse(data, source="synthetic"), mode.parse_runs)
    megabytes = len(data) / 1e6
    print(
        f"\nparse: decode_bytes + parse_listing, synthetic text dump of {megabytes:.1f} MB, "
        f"{entries:,} entries, {len(times)} runs"
    )
    best, median = min(times), statistics.median(times)
    for label, seconds in (("best", best), ("median", median)):
        print(
            f"parse {label:<6} {seconds:7.3f} s  {megabytes / seconds:6.1f} MB/s  "
            f"{entries / seconds:9,.0f} entries/s"
        )
    return {"megabytes": megabytes, "entries": entries, "best_s": best, "median_s": median}


def bench_ingest(
    mode: Mode, bases: list[ParsedPaper], *, cache: Path, work: Path
) -> list[dict[str, float]]:
    """pipeline.ingest_bytes of listings with new and known papers into archives of size N."""
    seeds = {size: seeded_archive(size, bases, cache=cache) for size in mode.archives}
    print(
        f"\ningest: pipeline.ingest_bytes into SQLite (WAL), best and median of {mode.runs} "
        "runs, each on a fresh copy of the seeded archive; parse = decode+parse of the same bytes"
    )
    print(
        f"{'':6} {'archive N':>11} {'entries':>7} {'new':>6} {'known':>6} {'best s':>8} "
        f"{'median s':>8} {'parse s':>8} {'ms/entry':>8}"
    )
    rows = []
    largest = max(mode.archives)
    for size, seed in seeds.items():
        cases = list(mode.listings)
        if size == largest:
            cases += [(count, 0) for count in mode.growth]
        for new, known in cases:
            rows.append(_measure(seed, size, bases, new=new, known=known, mode=mode, work=work))
    return rows


def _measure(
    seed: Path, size: int, bases: list[ParsedPaper], *, new: int, known: int, mode: Mode, work: Path
) -> dict[str, float]:
    # Known entries are spread over the archive and interleaved with new ones; each shows an
    # upvote count that moved since it was stored, so every sighting also updates its paper.
    olds = [variant(bases, i * size // max(known, 1)) for i in range(known)]
    olds = [
        replace(p, upvotes=(p.upvotes or 0) + 1, published=p.published or NOW.date()) for p in olds
    ]
    fresh = [variant(bases, size + i) for i in range(new)]  # the papers after the archive's
    entries = [paper for pair in zip(fresh, olds, strict=False) for paper in pair]
    entries += fresh[len(olds) :] + olds[len(fresh) :]
    data = render_listing(entries, day=NOW.date())
    settings = Settings(
        database_url="sqlite://",
        data_dir=work,
        inbox_dir=work / "inbox",
        max_dump_bytes=len(data) + 1,
    )
    times = []
    for _ in range(mode.runs):
        url = f"sqlite:///{_working_copy(seed, work)}"
        engine = make_engine(url)
        migrate(engine)  # a no-op on the seeded file; opens the pool's connection untimed
        started = time.perf_counter()
        result = ingest_bytes(engine, data, source="benchmark", settings=settings, now=NOW)
        times.append(time.perf_counter() - started)
        engine.dispose()
        if (result.status, result.new, result.known) != ("ingested", new, known):
            raise SystemExit(f"expected {new} new and {known} known, got {result}")
    parse_s = min(timed(lambda: _parse(data, source="benchmark"), mode.runs))
    best, median = min(times), statistics.median(times)
    print(
        f"ingest {size:>11,} {len(entries):>7,} {new:>6,} {known:>6,} {best:>8.3f} "
        f"{median:>8.3f} {parse_s:>8.3f} {1000 * best / len(entries):>8.3f}",
        flush=True,
    )
    return {
        "archive": size,
        "entries": len(entries),
        "new": new,
        "known": known,
        "best_s": best,
        "median_s": median,
        "parse_s": parse_s,
    }


def summarize(rows: list[dict[str, float]], mode: Mode) -> None:
    """The two claims: cost follows the new papers, not the archive."""
    smallest, largest = min(mode.archives), max(mode.archives)
    by = {(r["archive"], r["new"], r["known"]): r["best_s"] for r in rows}
    new, known = mode.listings[0]
    ratio = by[(largest, new, known)] / by[(smallest, new, known)]
    print(
        f"\nscaling: {new:,} new at N={largest:,} vs N={smallest:,}: x{ratio:.2f} "
        f"(archive x{largest // smallest})"
    )
    counts = sorted({mode.growth[0], new, mode.growth[-1]})
    figures = " / ".join(f"{by[(largest, count, 0)]:.3f} s" for count in counts)
    print(f"scaling: {' / '.join(f'{c:,}' for c in counts)} new at N={largest:,}: {figures}")


def machine() -> str:
    """CPU, cores and versions, for the record."""
    return describe(f"SQLite {sqlite3.sqlite_version}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "digest-bench",
        help="where seeded archives are kept between runs (default: %(default)s)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    mode = QUICK if args.quick else FULL
    print(f"digest ingest benchmark ({mode.name}) on {machine()}")
    started = time.perf_counter()
    bases = sample_papers()
    parse = bench_parse(mode)
    with tempfile.TemporaryDirectory(prefix="digest-bench-") as work:
        rows = bench_ingest(mode, bases, cache=args.cache_dir, work=Path(work))
    summarize(rows, mode)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    if args.json:
        figures = {"mode": mode.name, "machine": machine(), "parse": parse, "ingest": rows}
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

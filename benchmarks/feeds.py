"""Feed benchmarks: building 50- and 1,000-entry feeds, and requests/s of the running server.

Run `.venv/bin/python benchmarks/feeds.py` (full, three to four minutes) or `--quick` (a smoke run,
seconds); `--json FILE` also writes the figures, `--load wrk|httpx` picks the load generator
(default: wrk if it is installed).

Archive: a SQLite file (WAL, as `make_engine` opens it) filled through `pipeline.ingest_bytes`,
one listing and one edition a day, so editions and term statistics are the ones ingest keeps:
100 days of 100 synthetic papers (history outside the feed window), 10 more such days, then
the four real sample dumps of tests/data/dumps/ (313 distinct papers), so the 14-edition feed
window holds 1,313 papers. Synthetic papers are the sample papers made distinct by
benchmarks/ingest.py's `variant`.

Build: for the new papers feed, a search feed and a private feed (the eight judged alerts of
tests/data/judgments/), at `feed_max_entries` 50 and 1,000, Atom and RSS: the view alone
(load the window from the store, rank, explain), `build_feed` alone on that view (the pure
feedgen builder), and the whole `digest.pipeline.feeds.*_feed` call; best and median of N.

HTTP: `digest web` (uvicorn, the product's command, default settings apart from the database
and the secret) started as a process of its own on a free loopback port and stopped at the
end; each feed fetched for 200, then with its ETag in If-None-Match for 304, by wrk (one thread)
or an async httpx generator in a process of its own, with N keep-alive connections. The status
of every case is checked before it is loaded; the server's CPU time per request comes from
/proc. Everything shares the machine's cores: the load generator included.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from benchmarks.machine import describe, load_average
from sqlalchemy.engine import Engine

from digest.config import Settings
from digest.feeds import FeedFormat, FeedView, RenderedFeed, build_feed
from digest.pipeline import add_subscriber, feeds, ingest_bytes
from digest.pipeline.links import Links
from digest.store.db import make_engine, migrate
from ingest import render_listing, sample_papers, variant

ROOT = Path(__file__).resolve().parent.parent
DUMPS = sorted((ROOT / "tests" / "data" / "dumps").glob("*.txt"))
ALERTS = ROOT / "tests" / "data" / "judgments" / "alerts.json"
NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
SECRET = "benchmark-secret-not-for-production"
SEARCH = "segmentation"  # the search feed: a common alert, a fifth of the window matches
READER = "reader@example.org"
STARTUP_SECONDS = 30.0
MAX_SECONDS = 120  # the longest load case, and the client timeouts
ROUNDS = 3  # a load case lasts at least this many single-request times per connection


@dataclass(frozen=True)
class Mode:
    """How much to measure."""

    name: str
    history_days: int  # days of synthetic papers before the feed window
    window_days: int  # days of synthetic papers inside it, before the four sample dumps
    per_day: int  # synthetic papers a day
    sizes: tuple[int, ...]  # feed_max_entries measured
    runs: int  # timed calls per build figure
    seconds: int  # load per HTTP case
    warmup: int  # unmeasured load before each case
    connections: int


FULL = Mode("full", 100, 10, 100, (50, 1000), 5, 10, 2, 8)
QUICK = Mode("quick", 2, 2, 40, (50, 200), 1, 1, 0, 4)


# -- the archive ----------------------------------------------------------------------------


def build_archive(path: Path, mode: Mode, settings: Settings) -> tuple[Engine, dict[str, int]]:
    """Ingest the synthetic days and the sample dumps, one edition a day; returns the counts."""
    bases = sample_papers()
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    days = mode.history_days + mode.window_days
    first = NOW - timedelta(days=days + len(DUMPS) - 1)
    started = time.perf_counter()
    papers = window = 0
    for day in range(days):
        moment = first + timedelta(days=day)
        entries = [variant(bases, day * mode.per_day + i) for i in range(mode.per_day)]
        new = _ingest(engine, render_listing(entries, day=moment.date()), moment, settings)
        if new != mode.per_day:
            raise SystemExit(f"synthetic day {day}: {new} new papers, expected {mode.per_day}")
        papers += new
        window += new if day >= mode.history_days else 0
    for offset, dump in enumerate(DUMPS):
        new = _ingest(engine, dump.read_bytes(), first + timedelta(days=days + offset), settings)
        papers, window = papers + new, window + new
    if window - mode.window_days * mode.per_day != len(bases):
        raise SystemExit(f"the sample dumps added {window} papers, expected {len(bases)}")
    seconds = time.perf_counter() - started
    print(
        f"archive: {papers:,} papers in {days + len(DUMPS)} editions, {window:,} in the "
        f"{feeds.FEED_WINDOW_EDITIONS}-edition feed window; ingested in {seconds:.1f} s",
        flush=True,
    )
    return engine, {"papers": papers, "editions": days + len(DUMPS), "window": window}


def _ingest(engine: Engine, data: bytes, moment: datetime, settings: Settings) -> int:
    result = ingest_bytes(
        engine, data, source=f"bench-{moment:%Y%m%d}", settings=settings, now=moment
    )
    if result.status != "ingested":
        raise SystemExit(f"ingest on {moment:%Y-%m-%d}: {result}")
    return result.new


def judged_alerts() -> list[str]:
    """The eight judged alerts' queries (the private feed's subscriber has all of them)."""
    return [alert["query"] for alert in json.loads(ALERTS.read_text())["alerts"]]


# -- build times ----------------------------------------------------------------------------


def timed(action: Callable[[], object], runs: int) -> list[float]:
    """Wall times of `runs` calls."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return times


def bench_build(
    engine: Engine, mode: Mode, settings: Settings, *, token: str
) -> list[dict[str, Any]]:
    """View, builder alone and end to end, per feed kind, size and format."""
    print(
        f"\nbuild: digest.pipeline.feeds on the archive, best and median of {mode.runs} runs "
        "(seconds); view = store + rank + explain, build = build_feed alone, e2e = the *_feed call"
    )
    print(
        f"{'':5} {'feed':<8} {'max':>5} {'entries':>7} {'format':<6} {'view':>7} {'build':>7} "
        f"{'e2e':>7} {'e2e med':>7} {'kB':>7} {'build ms/entry':>14}"
    )
    rows = []
    for size in mode.sizes:
        sized = settings.model_copy(update={"feed_max_entries": size})
        for kind, (make_view, whole) in feed_calls(engine, sized, token=token).items():
            view = make_view()  # untimed: the first call may recompute term statistics
            view_s = min(timed(make_view, mode.runs))
            for fmt in (FeedFormat.ATOM, FeedFormat.RSS):
                row: dict[str, Any] = {
                    "feed": kind,
                    "max_entries": size,
                    "entries": len(view.items),
                }
                row |= _measure_format(view, whole, fmt, runs=mode.runs) | {"view_s": view_s}
                rows.append(row)
                per_entry = 1000 * row["build_s"] / max(1, len(view.items))
                print(
                    f"build {kind:<8} {size:>5} {len(view.items):>7} {fmt.value:<6} "
                    f"{view_s:>7.3f} {row['build_s']:>7.3f} {row['e2e_s']:>7.3f} "
                    f"{row['e2e_median_s']:>7.3f} {row['bytes'] / 1000:>7.0f} {per_entry:>14.3f}",
                    flush=True,
                )
    return rows


FeedCalls = tuple[Callable[[], FeedView], Callable[[FeedFormat], RenderedFeed]]


def feed_calls(engine: Engine, settings: Settings, *, token: str) -> dict[str, FeedCalls]:
    """Per feed kind: the pipeline call that makes its view, and the one that builds it."""
    return {
        "new": (
            lambda: feeds.new_papers_view(engine, settings=settings),
            lambda fmt: feeds.new_papers_feed(engine, settings=settings, fmt=fmt),
        ),
        "search": (
            lambda: feeds.search_view(engine, SEARCH, settings=settings),
            lambda fmt: feeds.search_feed(engine, SEARCH, settings=settings, fmt=fmt),
        ),
        "private": (
            lambda: feeds.private_view(engine, token, settings=settings, secret=SECRET),
            lambda fmt: feeds.private_feed(
                engine, token, settings=settings, secret=SECRET, fmt=fmt
            ),
        ),
    }


def _measure_format(
    view: FeedView, whole: Callable[[FeedFormat], RenderedFeed], fmt: FeedFormat, *, runs: int
) -> dict[str, Any]:
    body = build_feed(view, fmt).body
    if whole(fmt).body != body:
        raise SystemExit(f"{view.title} ({fmt.value}): the pipeline built other bytes")
    build = timed(lambda: build_feed(view, fmt), runs)
    e2e = timed(lambda: whole(fmt), runs)
    return {
        "format": fmt.value,
        "build_s": min(build),
        "e2e_s": min(e2e),
        "e2e_median_s": statistics.median(e2e),
        "bytes": len(body),
    }


# -- the running server ---------------------------------------------------------------------


def free_port() -> int:
    """A loopback port nobody listens on now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_server(database: Path, work: Path) -> Iterator[tuple[str, int]]:
    """`digest web` on 127.0.0.1 in a process of its own; yields its URL and pid."""
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("DIGEST_")}
    env |= {
        "DIGEST_DATABASE_URL": f"sqlite:///{database}",
        "DIGEST_DATA_DIR": str(work / "var"),
        "DIGEST_INBOX_DIR": str(work / "inbox"),
        "DIGEST_SECRET_KEY": SECRET,
    }
    command = [sys.executable, "-m", "digest", "web", "--host", "127.0.0.1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    log = work / "server.log"
    with log.open("wb") as output:
        # cwd: no config/digest.toml of the developer's is read; the environment says it all.
        server = subprocess.Popen(command, cwd=work, env=env, stdout=output, stderr=output)
    try:
        _wait_until_up(url, server, log)
        yield url, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_until_up(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"digest web exited with {server.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"digest web did not answer within {STARTUP_SECONDS:.0f} s")


def server_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Load:
    """What one load run measured."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # transport errors and responses of another status than expected


def wrk_load(url: str, headers: dict[str, str], *, mode: Mode, seconds: int) -> Load:
    """wrk, one thread, `mode.connections` connections; errors are non-2xx/3xx and socket ones."""
    # A generous timeout: a slow feed queues every connection behind one busy core.
    command = [
        "wrk",
        "-t1",
        f"-c{mode.connections}",
        f"-d{seconds}s",
        "--timeout",
        f"{MAX_SECONDS}s",
    ]
    command.append("--latency")
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 60
    )
    return parse_wrk(done.stdout)


def parse_wrk(output: str) -> Load:
    """Requests, duration, latency percentiles and errors from wrk's report."""
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    if total is None:
        raise SystemExit(f"unexpected wrk output:\n{output}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return Load(
        requests=int(total.group(1)),
        seconds=_duration(total.group(2), total.group(3)),
        p50_ms=1000 * _percentile(output, "50%"),
        p99_ms=1000 * _percentile(output, "99%"),
        errors=errors + (int(bad.group(1)) if bad else 0),
    )


def _percentile(output: str, label: str) -> float:
    found = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    if found is None:
        raise SystemExit(f"no {label} latency in wrk output:\n{output}")
    return _duration(found.group(1), found.group(2))


def _duration(value: str, unit: str) -> float:
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def httpx_load(url: str, headers: dict[str, str], *, mode: Mode, seconds: int) -> Load:
    """The async httpx generator, run in a process of its own (spawned, not forked)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        requests, elapsed, latencies, errors = pool.submit(
            _httpx_worker, url, headers, mode.connections, seconds
        ).result()
    latencies = sorted(latencies) or [float("nan")]  # nan: no request finished in time
    return Load(
        requests=requests,
        seconds=elapsed,
        p50_ms=1000 * latencies[len(latencies) // 2],
        p99_ms=1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        errors=errors,
    )


def _httpx_worker(
    url: str, headers: dict[str, str], connections: int, seconds: float
) -> tuple[int, float, list[float], int]:
    return asyncio.run(_httpx_run(url, headers, connections, seconds))


async def _httpx_run(
    url: str, headers: dict[str, str], connections: int, seconds: float
) -> tuple[int, float, list[float], int]:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors = 0
    async with httpx.AsyncClient(limits=limits, timeout=MAX_SECONDS) as client:
        started = time.perf_counter()
        deadline = started + seconds

        async def connection() -> None:
            nonlocal errors
            while (sent := time.perf_counter()) < deadline:
                try:
                    response = await client.get(url, headers=headers)
                except httpx.TransportError:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - sent)
                statuses[response.status_code] += 1

        await asyncio.gather(*(connection() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    errors += sum(count for status, count in statuses.items() if status >= 400)
    return len(latencies), elapsed, latencies, errors


LOADERS = {"wrk": wrk_load, "httpx": httpx_load}


def bench_http(
    database: Path, work: Path, mode: Mode, *, token: str, loader: str
) -> list[dict[str, Any]]:
    """Requests/s of 200 and 304 answers from `digest web`, per feed."""
    paths = {
        "new": "/feeds/new.atom",
        "search": f"/feeds/search.atom?{urlencode({'q': SEARCH})}",
        "private": f"/feeds/private/{token}.atom",
    }
    print(
        f"\nhttp: digest web (uvicorn, 1 process) on loopback, load by {loader} with "
        f"{mode.connections} connections, {mode.warmup} s of warm-up, then at least "
        f"{mode.seconds} s per case (longer for slow answers); cpu = the server's CPU ms per "
        "request; alone = one request on the idle server just before the case; first = the "
        "feed's first request since the server started; healthz = the framework's floor"
    )
    print(
        f"{'':4} {'feed':<8} {'status':>6} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'cpu ms':>7} {'requests':>8} {'s':>4} {'kB':>5} {'alone ms':>8} {'first ms':>8}"
    )
    rows = []
    timeout = httpx.Timeout(MAX_SECONDS)
    with (
        running_server(database, work) as (url, pid),
        httpx.Client(base_url=url, timeout=timeout) as client,
    ):
        for kind, path in paths.items():
            wait_until_idle(pid)
            started = time.perf_counter()
            first = client.get(path)
            cold = time.perf_counter() - started  # the first request since the server started
            if first.status_code != 200:
                raise SystemExit(f"{kind}: {first.status_code} {first.text[:200]}")
            etag = first.headers["etag"]
            for status, headers in ((200, {}), (304, {"If-None-Match": etag})):
                row = _http_case(client, url, path, headers, pid=pid, mode=mode, loader=loader)
                if row["status"] != status or row.pop("etag") != etag:
                    raise SystemExit(f"{kind}: expected {status}, got {row['status']}")
                rows.append(_shown_row(row | {"feed": kind, "first_ms": 1000 * cold}))
        # The floor: the framework, the access log and one SQL statement, no feed at all.
        row = _http_case(client, url, "/healthz", {}, pid=pid, mode=mode, loader=loader)
        rows.append(_shown_row(row | {"feed": "healthz", "first_ms": None}))
    return rows


def _http_case(
    client: httpx.Client,
    url: str,
    path: str,
    headers: dict[str, str],
    *,
    pid: int,
    mode: Mode,
    loader: str,
) -> dict[str, Any]:
    """One request on the idle server (status, validator, time), then the path under load."""
    wait_until_idle(pid)
    started = time.perf_counter()
    check = client.get(path, headers=headers)
    alone = time.perf_counter() - started
    row = _load_case(url + path, headers, alone, pid=pid, mode=mode, loader=loader)
    return row | {
        "status": check.status_code,
        "etag": check.headers.get("etag"),
        "bytes": len(check.content),
    }


def _shown_row(row: dict[str, Any]) -> dict[str, Any]:
    print(
        f"http {row['feed']:<8} {row['status']:>6} {row['requests_per_s']:>8.1f} "
        f"{row['p50_ms']:>7.1f} {row['p99_ms']:>7.1f} "
        f"{_shown(row['server_cpu_ms']):>7} {row['requests']:>8} "
        f"{row['seconds']:>4.0f} {row['bytes'] / 1000:>5.0f} "
        f"{row['alone_ms']:>8.1f} {_shown(row['first_ms'], digits=1):>8}",
        flush=True,
    )
    return row


def _load_case(
    url: str, headers: dict[str, str], alone: float, *, pid: int, mode: Mode, loader: str
) -> dict[str, Any]:
    """One case under load; long enough that every connection finishes a few requests."""
    load = LOADERS[loader]
    seconds = min(MAX_SECONDS, max(mode.seconds, math.ceil(ROUNDS * alone * mode.connections)))
    if mode.warmup:
        load(url, headers, mode=mode, seconds=mode.warmup)
        wait_until_idle(pid)
    cpu_before = server_cpu_seconds(pid)
    result = load(url, headers, mode=mode, seconds=seconds)
    cpu_after = server_cpu_seconds(pid)
    if result.errors:
        raise SystemExit(f"{url}: {result.errors} errors under load")
    cpu_ms = (
        1000 * (cpu_after - cpu_before) / max(1, result.requests)
        if cpu_before is not None and cpu_after is not None
        else None
    )
    return {
        "connections": mode.connections,
        "requests": result.requests,
        "seconds": result.seconds,
        "requests_per_s": result.requests / result.seconds,
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "server_cpu_ms": cpu_ms,
        "alone_ms": 1000 * alone,
    }


def wait_until_idle(pid: int) -> None:
    """Until the server has finished what a load run left in flight (its CPU time stops)."""
    deadline = time.monotonic() + MAX_SECONDS
    last = server_cpu_seconds(pid)
    while last is not None and time.monotonic() < deadline:
        time.sleep(0.2)
        now = server_cpu_seconds(pid)
        if now is None or now - last < 0.02:
            return
        last = now


def _shown(value: float | None, *, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


# -- the run --------------------------------------------------------------------------------


def machine() -> str:
    """CPU, cores and versions, for the record."""
    return describe(f"SQLite {sqlite3.sqlite_version}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument(
        "--load",
        choices=("auto", "wrk", "httpx"),
        default="auto",
        help="load generator (default: wrk if installed, else httpx)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    mode = QUICK if args.quick else FULL
    loader = args.load if args.load != "auto" else "wrk" if shutil.which("wrk") else "httpx"
    print(f"digest feeds benchmark ({mode.name}) on {machine()}")
    print(f"load average at the start: {load_average()}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="digest-bench-feeds-") as folder:
        work = Path(folder)
        database = work / "archive.db"
        settings = Settings(
            database_url=f"sqlite:///{database}",
            data_dir=work / "var",
            inbox_dir=work / "inbox",
            secret_key=SECRET,
        )
        engine, archive = build_archive(database, mode, settings)
        reader = add_subscriber(engine, READER, alerts=judged_alerts(), settings=settings, now=NOW)
        url = Links.from_settings(settings).feed_url(reader, kind=FeedFormat.ATOM.value)
        token = url.rsplit("/", 1)[1].removesuffix(".atom")
        build = bench_build(engine, mode, settings, token=token)
        engine.dispose()  # the server is the only user of the database from here on
        http = bench_http(database, work, mode, token=token, loader=loader)
    print(f"\nload average at the end: {load_average()}")
    print(f"total {time.perf_counter() - started:.0f} s")
    if args.json:
        figures = {
            "mode": mode.name,
            "machine": machine(),
            "load_generator": loader,
            "archive": archive,
            "build": build,
            "http": http,
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

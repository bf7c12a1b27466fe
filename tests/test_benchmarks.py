"""The benchmark scripts run from nothing and print their figures (a smoke run, never timed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_quick(folder: Path, script: str, *options: str) -> tuple[list[str], dict[str, Any]]:
    """Run `benchmarks/SCRIPT --quick` in `folder` (it must not depend on the working
    directory); returns its output lines and the figures it wrote as JSON."""
    figures = folder / "figures.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / script),
            "--quick",
            *options,
            "--json",
            str(figures),
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines(), json.loads(figures.read_text())


@pytest.mark.slow
def test_ingest_benchmark_quick_run_prints_every_figure(tmp_path: Path) -> None:
    lines, written = run_quick(tmp_path, "ingest.py", "--cache-dir", str(tmp_path / "cache"))
    for prefix in ("parse best ", "parse median ", "scaling: "):
        assert any(line.startswith(prefix) for line in lines), prefix
    assert sum(line.startswith("ingest ") for line in lines) == 6
    assert list((tmp_path / "cache").glob("papers-*.db")), "seeded archives are cached"
    # Three copies of the four sample dumps (384 entries), every altered title kept.
    assert written["parse"]["entries"] == 3 * 384
    assert written["parse"]["best_s"] > 0
    assert [(row["archive"], row["new"], row["known"]) for row in written["ingest"]] == [
        (1000, 200, 0),
        (1000, 100, 100),
        (3000, 200, 0),
        (3000, 100, 100),
        (3000, 50, 0),
        (3000, 500, 0),
    ]


@pytest.mark.slow
@pytest.mark.smtp
def test_deliver_benchmark_quick_run_prints_every_figure(tmp_path: Path) -> None:
    lines, written = run_quick(tmp_path, "deliver.py")
    for prefix in ("compose total ", "explain: ", "stage view ", "stage mime ", "verify: "):
        assert any(line.startswith(prefix) for line in lines), prefix
    assert sum(line.startswith("send ") for line in lines) == 20
    assert [path.name for path in tmp_path.iterdir()] == ["figures.json"]  # no litter
    assert written["compose"]["digests"] == 400
    assert 15 < written["compose"]["papers_per_digest"] <= 20  # ~20 papers, some alerts narrow
    assert written["compose"]["explain"]["pairs"] > 0
    assert written["stages"]["verified"] == 20  # decoded by the email package and compared
    each = ("one connection each", 1, 0)
    single = ("SmtpMailer", 1, 1)  # one connection, one message per send call
    pools = [("SmtpMailer", n, chunk) for n in (16, 32) for chunk in (100, n)]  # all at once, or
    # `connections` messages per send call as digest/pipeline/sending.py sends them
    cases = [
        (row["sink"], row["delay_ms"], row["client"], row["connections"], row["chunk"])
        for row in written["send"]
    ]
    assert cases == [
        *[("aiosmtpd", 0.0, *case) for case in [each, single, *pools]],
        *[("aiosmtpd", 5.0, *case) for case in [each, single, *pools]],
        *[("raw", 0.0, *case) for case in [each, single, *pools[:2]]],
        *[("raw", 5.0, *case) for case in pools],
    ]
    assert all(row["messages"] > 0 and row["sink_cpu_s"] is not None for row in written["send"])


@pytest.mark.slow
def test_feeds_benchmark_quick_run_prints_every_figure(tmp_path: Path) -> None:
    # wrk is optional: httpx is the load generator every machine has.
    lines, written = run_quick(tmp_path, "feeds.py", "--load", "httpx")
    assert any(line.startswith("archive: ") for line in lines)
    assert sum(line.startswith("build ") for line in lines) == 12
    assert sum(line.startswith("http ") for line in lines) == 7
    # The archive, the server's files and its log went with the script's own folder.
    assert [path.name for path in tmp_path.iterdir()] == ["figures.json"]
    assert written["load_generator"] == "httpx"
    # 2 + 2 synthetic days of 40 papers, then the 313 distinct sample papers, all ingested.
    assert written["archive"] == {"papers": 473, "editions": 8, "window": 393}
    cases = [(row["feed"], row["max_entries"], row["format"]) for row in written["build"]]
    assert cases == [
        (feed, size, fmt)
        for size in (50, 200)
        for feed in ("new", "search", "private")
        for fmt in ("atom", "rss")
    ]
    new = [row["entries"] for row in written["build"] if row["feed"] == "new"]
    assert new == [50, 50, 200, 200]
    assert all(0 < row["entries"] <= row["max_entries"] for row in written["build"])
    assert [(row["feed"], row["status"]) for row in written["http"]] == [
        *[(feed, status) for feed in ("new", "search", "private") for status in (200, 304)],
        ("healthz", 200),
    ]
    for row in written["http"]:
        assert row["requests"] > 0
        assert (row["bytes"] > 0) == (row["status"] == 200)


@pytest.mark.slow
def test_rank_benchmark_quick_run_prints_every_figure(tmp_path: Path) -> None:
    lines, written = run_quick(tmp_path, "rank.py")
    for prefix in ("parse ", "index ", "evaluate ", "rank ", "total ", "memory ", "phrases "):
        assert sum(line.startswith(prefix) for line in lines) == 1, prefix
    assert sum(line.startswith("naive ") for line in lines) == 2  # the sample, extrapolated
    assert [path.name for path in tmp_path.iterdir()] == ["figures.json"]
    (size,) = written["sizes"]
    assert (size["subscribers"], size["papers"]) == (1000, 300)
    assert 1000 <= size["alerts"] <= 6000  # 1 to 6 alerts each
    assert 0 < size["distinct_queries"] <= size["alerts"]
    assert size["matches"] > 0
    assert size["served"] > 0
    assert size["rss_peak_mb"] >= size["rss_before_mb"] > 0
    # Phrases were checked against positions, and positions mattered: some papers held a
    # phrase's words apart and were not matched.
    assert size["phrases"]["features"] > 0
    assert size["phrases"]["found"] > 0
    assert size["phrases"]["scattered_rejected"] > 0
    assert written["naive"]["subscribers"] == 5
    assert written["naive"]["extrapolated_s"] > 0

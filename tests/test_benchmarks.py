"""The benchmark scripts run from nothing and print their figures (a smoke run, never timed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_ingest_benchmark_quick_run_prints_every_figure(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "ingest.py"),
            "--quick",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--json",
            str(figures),
        ],
        cwd=tmp_path,  # the script must not depend on the working directory
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for prefix in ("parse best ", "parse median ", "scaling: "):
        assert any(line.startswith(prefix) for line in lines), prefix
    assert sum(line.startswith("ingest ") for line in lines) == 6
    assert list((tmp_path / "cache").glob("papers-*.db")), "seeded archives are cached"

    written = json.loads(figures.read_text())
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

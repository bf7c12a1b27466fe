"""The same ingestion on PostgreSQL, in a throwaway database per test process.

Most store and bad-input tests also run here through the `any_engine` fixture; this module holds
the sample-dump run, the command line on a PostgreSQL URL and the fixture's own guarantees.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL, Engine

from digest.config import Settings
from digest.pipeline import gather_stats, ingest_paths
from tests.conftest import DUMPS, SAMPLE_DUMPS, all_rows, postgres_unavailable

DIGEST = Path(sys.executable).with_name("digest")


@pytest.mark.postgres
def test_sample_dumps_on_postgres(
    postgres_engine: Engine, settings: Settings, now: datetime
) -> None:
    results = ingest_paths(postgres_engine, [DUMPS], settings=settings, now=now)
    assert [r.status for r in results] == ["ingested"] * 4
    assert [r.entries for r in results] == [89, 72, 79, 144]
    assert [r.new for r in results] == [89, 47, 55, 122]
    stats = gather_stats(postgres_engine)
    assert (stats.papers, stats.listings, stats.editions, stats.sightings) == (313, 4, 1, 384)

    before = all_rows(postgres_engine)
    later = now + timedelta(days=1)
    again = ingest_paths(postgres_engine, SAMPLE_DUMPS, settings=settings, now=later)
    assert [(r.status, r.new) for r in again] == [("skipped", 0)] * 4
    assert all_rows(postgres_engine) == before


@pytest.mark.postgres
def test_each_test_gets_its_own_schema_in_a_throwaway_database(
    postgres_url: URL, postgres_engine: Engine
) -> None:
    assert postgres_url.database is not None
    assert postgres_url.database.startswith("digest_test_")
    with postgres_engine.connect() as connection:
        schema = connection.execute(text("SELECT current_schema()")).scalar_one()
        tables = set(
            connection.execute(
                text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
                {"s": schema},
            ).scalars()
        )
    assert schema.startswith("t_")
    assert {"alembic_version", "papers", "listings", "sightings", "editions"} <= tables


@pytest.mark.postgres
def test_the_command_line_on_postgres(postgres_schema_url: URL, tmp_path: Path) -> None:
    # Trust authentication ignores the password, which lets the test check it is never shown.
    url = postgres_schema_url.set(password="hunter2").render_as_string(hide_password=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    env["DIGEST_DATABASE_URL"] = url

    def digest(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(DIGEST), *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    init = digest("init")
    assert init.returncode == 0, init.stderr
    assert "hunter2" not in init.stdout
    assert init.stdout.startswith("database ready: postgresql+psycopg://postgres:***@")

    ingest = digest("ingest", "--json", str(SAMPLE_DUMPS[0]), str(SAMPLE_DUMPS[0]))
    assert ingest.returncode == 0, ingest.stderr
    assert [(r["status"], r["new"]) for r in json.loads(ingest.stdout)] == [
        ("ingested", 89),
        ("skipped", 0),
    ]
    stats = digest("stats", "--json")
    assert json.loads(stats.stdout)["papers"] == 89


@pytest.mark.parametrize("ci", [True, False])
def test_an_unreachable_server_skips_locally_but_fails_in_ci(ci: bool) -> None:
    expected = pytest.fail.Exception if ci else pytest.skip.Exception
    with pytest.raises(expected, match="unreachable"):
        postgres_unavailable("PostgreSQL at 127.0.0.1:1 is unreachable", ci=ci)

"""Shared fixtures: settings, a store per test (SQLite, or PostgreSQL when marked), sample dumps."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel

from digest.config import Settings, load_settings
from digest.store import tables  # noqa: F401  (registers every table on the metadata)
from digest.store.db import make_engine, migrate
from tests.smtpserver import smtp_server  # noqa: F401  (a fixture for every test)

DATA = Path(__file__).parent / "data"
DUMPS = DATA / "dumps"
SAMPLE_DUMPS = sorted(DUMPS.glob("*.txt"))
NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)

POSTGRES_URL_ENV = "DIGEST_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

Rows = dict[str, list[tuple[object, ...]]]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings that point every path into the test's own folder."""
    return load_settings(
        database_url="sqlite://",
        data_dir=tmp_path / "var",
        inbox_dir=tmp_path / "inbox",
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """A migrated in-memory SQLite database."""
    engine = make_engine(settings.database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def now() -> datetime:
    """The fixed clock of the tests."""
    return NOW


def all_rows(engine: Engine) -> Rows:
    """Every row of every table, in primary-key order: compare two to prove nothing changed."""
    with engine.connect() as connection:
        return {
            table.name: [
                tuple(row)
                for row in connection.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in SQLModel.metadata.sorted_tables
        }


# --- PostgreSQL -----------------------------------------------------------------------------


def postgres_unavailable(message: str, *, ci: bool) -> NoReturn:
    """Skip on a developer's machine, but fail in CI, which must never skip PostgreSQL silently."""
    if ci:
        pytest.fail(f"{message} (CI=true: the PostgreSQL tests must run)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[URL]:
    """A throwaway database for this test process (one per xdist worker), dropped at the end."""
    base = make_url(os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL))
    name = f"digest_test_{secrets.token_hex(6)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        postgres_unavailable(
            f"PostgreSQL at {base.render_as_string()} is unreachable: {reason}",
            ci=os.environ.get("CI") == "true",
        )
    try:
        yield base.set(database=name)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_schema_url(postgres_url: URL) -> Iterator[URL]:
    """A URL whose connections live in a fresh, empty schema of the throwaway database."""
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        # search_path puts every table, and alembic_version, in the test's own schema.
        yield postgres_url.update_query_dict({"options": f"-csearch_path={schema}"})
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def postgres_engine(postgres_schema_url: URL) -> Iterator[Engine]:
    """A migrated, empty PostgreSQL store of the test's own."""
    engine = make_engine(postgres_schema_url.render_as_string(hide_password=False))
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def any_engine(request: pytest.FixtureRequest) -> Engine:
    """The test runs twice: on in-memory SQLite and on PostgreSQL."""
    name = "engine" if request.param == "sqlite" else "postgres_engine"
    engine: Engine = request.getfixturevalue(name)
    return engine

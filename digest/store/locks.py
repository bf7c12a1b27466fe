"""A database-wide lock so that only one instance ingests or plans a day.

PostgreSQL: a session-level advisory lock, held on its own connection for the block.
SQLite lives on one machine and serialises writers itself; there the lock is a no-op.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Engine

DAILY_JOB = 715_300_001  # an arbitrary constant naming "the daily job" among advisory locks


@contextmanager
def exclusive(engine: Engine, *, key: int = DAILY_JOB) -> Iterator[bool]:
    """Try to take the lock; yields whether this process holds it (never waits)."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    with engine.connect() as connection:
        held = bool(
            connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        )
        try:
            yield held
        finally:
            if held:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            connection.commit()

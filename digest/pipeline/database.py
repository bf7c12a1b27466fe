"""Opening the configured database, and database errors turned into one readable line."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, OperationalError

from digest.config import Settings
from digest.errors import ConfigError, DigestError
from digest.store.db import display_url, make_engine, migrate


def open_store(settings: Settings) -> Engine:
    """Create the engine for the configured database and bring its schema up to date."""
    try:
        engine = make_engine(settings.database_url)
        migrate(engine)
    except ArgumentError as exc:
        raise ConfigError(f"database_url: {exc}") from exc
    except (OSError, OperationalError) as exc:
        # A server that is down or a folder that cannot be written: one line, not a traceback.
        raise DigestError(
            f"cannot open the database {store_location(settings)}: {first_line(exc)}"
        ) from exc
    return engine


def store_location(settings: Settings) -> str:
    """The database URL with any password hidden, fit for messages and logs."""
    return display_url(settings.database_url)


def first_line(exc: BaseException) -> str:
    """An exception's message without SQLAlchemy's background links and driver tracebacks."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__

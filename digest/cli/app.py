"""The Typer application, its global options and the error-to-exit-code mapping."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from sqlalchemy.engine import Engine

from digest.config import Settings, load_settings
from digest.errors import ConfigError, DigestError, NotFoundError

app = typer.Typer(
    name="digest",
    help="A self-hosted daily paper digest: ingest listing dumps, rank alerts, mail, feeds.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# soft_wrap: a message is one line however narrow the terminal, so scripts can grep it.
console = Console()
err_console = Console(stderr=True, soft_wrap=True)

EXIT_INPUT = 1  # a source was rejected, or a stage failed
EXIT_CONFIG = 3
EXIT_NOT_FOUND = 4


@dataclass
class Context:
    """What every command gets: the settings, and an engine opened on first use."""

    settings: Settings
    _engine: Engine | None = None

    def engine(self) -> Engine:
        """Open the database (migrating it) once per command."""
        if self._engine is None:
            from digest.pipeline import open_store

            self._engine = open_store(self.settings)
        return self._engine


def now_utc() -> datetime:
    """The clock the CLI passes down (the one place that reads it)."""
    return datetime.now(UTC)


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="Config file (default: $DIGEST_CONFIG or config/digest.toml)."
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug lines.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Log warnings only.")] = False,
) -> None:
    settings = load_settings(config)
    level = "DEBUG" if verbose else "WARNING" if quiet else settings.log_level
    logging.basicConfig(
        level=level,
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_path=False, show_time=False)],
        force=True,
    )
    # Alembic narrates every start-up at INFO; only its problems matter to a user.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLevelName(level)))
    ctx.obj = Context(settings=settings)


def main() -> None:
    """Entry point: run the app, turning domain errors into one line and an exit code."""
    from digest.cli import commands  # noqa: F401  (registers the commands)

    try:
        app(standalone_mode=True)
    except ConfigError as exc:
        err_console.print(f"[red]config error:[/red] {exc}")
        sys.exit(EXIT_CONFIG)
    except NotFoundError as exc:
        err_console.print(f"[red]not found:[/red] {exc}")
        sys.exit(EXIT_NOT_FOUND)
    except DigestError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        sys.exit(EXIT_INPUT)

"""`digest demo`: the main job on the embedded default, in a fresh local folder."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from digest import pipeline
from digest.cli.app import Context, app, console
from digest.sources import expand_paths

DEFAULT_DUMPS = Path("tests/data/dumps")


@app.command()
def demo(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Option(help="Fresh folder for the demo's database.")] = Path(
        "var/demo"
    ),
    dumps: Annotated[Path, typer.Option(help="Folder of sample dumps.")] = DEFAULT_DUMPS,
) -> None:
    """Make a fresh database, ingest the sample dumps one simulated day each, show the result."""
    context: Context = ctx.obj
    if not dumps.is_dir():
        raise typer.BadParameter(f"{dumps}: no such folder of sample dumps", param_hint="--dumps")
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    inbox = folder / "inbox"
    settings = context.settings.model_copy(
        update={
            "database_url": f"sqlite:///{folder / 'digest.db'}",
            "data_dir": folder,
            "inbox_dir": inbox,
        }
    )
    engine = pipeline.open_store(settings)
    start = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0)
    files = list(expand_paths([dumps]))
    table = Table(title="demo: one dump per simulated day")
    for column in ("day", "dump", "status", "entries", "new", "known"):
        table.add_column(column)
    for offset, path in enumerate(files):
        now = start - timedelta(days=len(files) - 1 - offset)
        inbox.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, inbox / path.name)
        for result in pipeline.ingest_inbox(engine, inbox, settings=settings, now=now):
            table.add_row(
                now.date().isoformat(),
                Path(result.file).name,
                result.status,
                str(result.entries),
                str(result.new),
                str(result.known),
            )
    console.print(table)
    stats = pipeline.gather_stats(engine)
    console.print(
        f"stored: {stats.papers} papers, {stats.listings} listings, "
        f"{stats.editions} editions, {stats.sightings} sightings"
    )
    console.print(f"database: {folder / 'digest.db'}")
    console.print(f"inbox:    {inbox} (ingested files are in {inbox / 'done'})")

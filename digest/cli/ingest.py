"""`digest init` and `digest ingest`."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from digest import pipeline
from digest.cli.app import EXIT_INPUT, Context, app, console, err_console, now_utc
from digest.models import IngestResult, SourceFormat
from digest.sources import expand_paths, inbox_files


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the database (or bring its schema up to date)."""
    context: Context = ctx.obj
    context.engine()
    # The URL may carry a password; the user only needs to see where the database is.
    console.print(
        f"database ready: {pipeline.store_location(context.settings)}",
        markup=False,
        soft_wrap=True,
    )


@app.command()
def ingest(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Dump files, or folders of them (name order).")
    ] = None,
    inbox: Annotated[
        Path | None,
        typer.Option(
            "--inbox",
            help="Ingest every file in this folder and move it to done/ or rejected/.",
        ),
    ] = None,
    fmt: Annotated[
        SourceFormat | None,
        typer.Option("--format", help="Source format; detected from the content by default."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON array, one per file.")
    ] = False,
) -> None:
    """Ingest listing dumps: store new papers and record sightings of known ones."""
    context: Context = ctx.obj
    if not paths and inbox is None:
        raise typer.BadParameter("give PATH... or --inbox DIR")
    if paths and inbox is not None:
        raise typer.BadParameter("give PATH... or --inbox DIR, not both")
    engine = context.engine()
    now = now_utc()
    files = inbox_files(inbox) if inbox is not None else list(expand_paths(paths or []))
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        console=err_console,
        transient=True,
        disable=as_json or not err_console.is_terminal,
    ) as progress:
        task = progress.add_task("ingesting", total=len(files))

        def advance(result: IngestResult) -> None:
            progress.update(task, advance=1, description=Path(result.file).name)

        if inbox is not None:
            results = pipeline.ingest_inbox(
                engine, inbox, settings=context.settings, now=now, fmt=fmt, on_result=advance
            )
        else:
            results = pipeline.ingest_paths(
                engine, files, settings=context.settings, now=now, fmt=fmt, on_result=advance
            )
    if as_json:
        print(json.dumps([_json_row(result) for result in results], indent=2))
    else:
        _print_table(results)
    rejected = [result for result in results if result.status == "rejected"]
    for result in rejected:
        # One unwrapped line per file, so that scripts and logs can grep it; file names and
        # reasons are data, never Rich markup.
        err_console.print(
            Text.assemble(("rejected", "red"), f" {result.file}: {result.error}"),
            soft_wrap=True,
        )
    if rejected:
        raise typer.Exit(EXIT_INPUT)


def _json_row(result: IngestResult) -> dict[str, object]:
    row = asdict(result)
    row["warnings"] = list(result.warnings)
    row.pop("listing_id")
    return row


def _print_table(results: list[IngestResult]) -> None:
    table = Table(title="ingest")
    for column in ("file", "status", "entries", "new", "known", "warnings"):
        table.add_column(
            column, justify="right" if column in {"entries", "new", "known"} else "left"
        )
    for result in results:
        table.add_row(
            escape(Path(result.file).name),
            result.status,
            str(result.entries),
            str(result.new),
            str(result.known),
            str(len(result.warnings))
            if result.status != "rejected"
            else escape(result.error or ""),
        )
    console.print(table)
    for result in results:
        for warning in result.warnings:
            console.print(
                Text.assemble(("warning", "yellow"), f" {Path(result.file).name}: {warning}")
            )

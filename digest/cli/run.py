"""`digest run`: the daily job once (cron-friendly)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from digest.cli.app import EXIT_INPUT, Context, app, console, now_utc
from digest.pipeline.daily import DailyReport, run_daily


@app.command()
def run(
    ctx: typer.Context,
    all_hours: Annotated[
        bool, typer.Option("--all-hours", help="Ignore subscribers' send hours: all are due.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Ingest the inbox, send the due digests, write the static feeds; non-zero if a stage
    failed."""
    context: Context = ctx.obj
    report = run_daily(
        context.settings,
        now_utc(),
        engine=context.engine(),
        clock=now_utc,
        respect_send_hour=not all_hours,
    )
    if as_json:
        print(json.dumps(asdict(report), default=str, indent=2))
    else:
        print_report(report)
    if not report.ok:
        raise typer.Exit(EXIT_INPUT)


def print_report(report: DailyReport) -> None:
    """One row per stage: ok, counts, error."""
    table = Table(title=f"daily job {report.started:%Y-%m-%d %H:%M} UTC")
    table.add_column("stage")
    table.add_column("ok")
    table.add_column("counts")
    table.add_column("error")
    for stage in report.stages:
        table.add_row(
            stage.name,
            "yes" if stage.ok else "NO",
            Text(" ".join(f"{k}={v}" for k, v in stage.counts.items())),
            Text(stage.error or ""),
        )
    console.print(table)

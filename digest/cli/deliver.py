"""`digest send`, `digest preview` and `digest deliveries list`."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from digest import pipeline
from digest.cli.app import EXIT_INPUT, Context, app, console, now_utc

deliveries_app = typer.Typer(help="Look at the delivery ledger.", no_args_is_help=True)
app.add_typer(deliveries_app, name="deliveries")


def _say(line: str, *, style: str | None = None) -> None:
    """One line of output, never wrapped by rich: scripts grep these (paths can be long)."""
    console.print(Text(line), style=style, soft_wrap=True)


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter("use YYYY-MM-DD", param_hint="--edition") from exc


@app.command()
def send(
    ctx: typer.Context,
    edition: Annotated[
        str | None, typer.Option(help="The edition's day (YYYY-MM-DD); default: the newest.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Render the due digests to a folder; send nothing.")
    ] = False,
    out: Annotated[Path, typer.Option(help="Folder for --dry-run output.")] = Path("var/dry-run"),
    all_hours: Annotated[
        bool, typer.Option("--all-hours", help="Ignore subscribers' send hours: all are due.")
    ] = False,
) -> None:
    """Plan the due digests of an edition into the ledger and send them (once each)."""
    context: Context = ctx.obj
    engine = context.engine()
    day = _day(edition)
    if dry_run:
        written = pipeline.dry_run(
            engine,
            out,
            settings=context.settings,
            now=now_utc(),
            edition_day=day,
            respect_send_hour=not all_hours,
        )
        _say(f"dry run: {len(written) // 2} digest(s) rendered into {out}")
        return
    run = pipeline.deliver(
        engine,
        settings=context.settings,
        clock=now_utc,
        edition_day=day,
        respect_send_hour=not all_hours,
    )
    plan, sent = run.plan, run.send
    _say(
        f"edition {plan.edition_day or '-'}: planned {plan.planned}, nothing to send "
        f"{plan.skipped}, not due yet {plan.not_due}, already planned {plan.already}"
    )
    _say(
        f"sent {sent.sent}, retrying later {sent.retrying}, failed {sent.failed}, "
        f"bounced {sent.bounced}, suppressed {sent.suppressed}"
    )
    if sent.stopped:
        _say(f"stopped: {sent.stopped}", style="red")
        raise typer.Exit(EXIT_INPUT)


@app.command()
def preview(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The subscriber's address.")],
    out: Annotated[
        Path | None, typer.Option(help="Write the .eml here instead of standard output.")
    ] = None,
) -> None:
    """Write the complete message (headers and both parts) a subscriber would get now."""
    context: Context = ctx.obj
    message = pipeline.preview(context.engine(), email, settings=context.settings, now=now_utc())
    if out is None:
        sys.stdout.buffer.write(message.data)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(message.data)
    _say(f"wrote {out} ({len(message.data)} bytes)")


@deliveries_app.command("list")
def list_deliveries(
    ctx: typer.Context,
    state: Annotated[str | None, typer.Option(help="Only this state.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the delivery ledger: one row per (subscriber, edition)."""
    context: Context = ctx.obj
    rows = pipeline.ledger(context.engine(), state=state, limit=limit)
    if as_json:
        print(json.dumps([asdict(row) for row in rows], indent=2, default=str))
        return
    table = Table()
    for column in ("id", "subscriber", "edition", "state", "attempts", "papers", "error"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row.id),
            str(row.subscriber_id),
            row.edition_day,
            row.state,
            str(row.attempts),
            str(len(row.content.get("papers", []))),
            Text(row.last_error or ""),
        )
    console.print(table)
    counts = pipeline.ledger_counts(context.engine())
    _say(", ".join(f"{state}: {n}" for state, n in sorted(counts.items())))

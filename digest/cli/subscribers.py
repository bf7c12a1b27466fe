"""`digest subscribers ...` and `digest alerts ...`: manage who gets what."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.text import Text

from digest import pipeline
from digest.cli.app import Context, app, console, now_utc
from digest.models import SubscriberInfo

subscribers_app = typer.Typer(help="Manage subscribers.", no_args_is_help=True)
alerts_app = typer.Typer(help="Manage a subscriber's keyword alerts.", no_args_is_help=True)
app.add_typer(subscribers_app, name="subscribers")
app.add_typer(alerts_app, name="alerts")


@subscribers_app.command("add")
def add(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The subscriber's address.")],
    alert: Annotated[
        list[str] | None, typer.Option("--alert", "-a", help="An alert query (repeatable).")
    ] = None,
    timezone: Annotated[str, typer.Option(help="IANA time zone of the subscriber.")] = "UTC",
    send_hour: Annotated[
        int | None, typer.Option(help="Local hour to send (default: setting).")
    ] = None,
    frequency: Annotated[str, typer.Option(help="daily or weekly.")] = "daily",
    max_papers: Annotated[
        int | None, typer.Option(help="Papers per digest (default: setting).")
    ] = None,
    trending: Annotated[
        bool, typer.Option(help="Send top trending papers when no alert matched.")
    ] = True,
    pending: Annotated[
        bool,
        typer.Option("--pending", help="Add unconfirmed (double opt-in) instead of active."),
    ] = False,
) -> None:
    """Add a subscriber (active: the operator vouches for the address) with alerts."""
    context: Context = ctx.obj
    info = pipeline.add_subscriber(
        context.engine(),
        email,
        alerts=alert or [],
        settings=context.settings,
        now=now_utc(),
        status="pending" if pending else "active",
        prefs=pipeline.Preferences(
            timezone=timezone,
            send_hour=send_hour,
            frequency=frequency,
            max_papers=max_papers,
            include_trending=trending,
        ),
    )
    console.print(
        Text(f"added {info.email} ({info.status}) with {len(info.alerts)} alert(s)"),
        soft_wrap=True,
    )


@subscribers_app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List subscribers with their alert counts."""
    context: Context = ctx.obj
    rows = pipeline.list_subscribers(context.engine(), status=status)
    if as_json:
        print(json.dumps([_public(row) for row in rows], indent=2))
        return
    if not rows:
        console.print("no subscribers")
        return
    # Plain aligned columns, not a table: a table fits the terminal by folding the address,
    # which is the one thing an operator copies out of this list.
    lines = [("id", "email", "status", "frequency", "hour", "tz", "max", "alerts")]
    lines += [
        (
            str(row.id),
            row.email,
            row.status,
            row.frequency,
            str(row.send_hour),
            row.timezone,
            str(row.max_papers),
            str(len(row.alerts)),
        )
        for row in rows
    ]
    widths = [max(len(line[index]) for line in lines) for index in range(len(lines[0]))]
    for line in lines:
        cells = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        console.print(Text("  ".join(cells).rstrip()), soft_wrap=True)


@subscribers_app.command("show")
def show(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The subscriber's address.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one subscriber and their alerts."""
    context: Context = ctx.obj
    info = pipeline.find_subscriber(context.engine(), email)
    if as_json:
        print(json.dumps(_public(info), indent=2))
        return
    _print_subscriber(info)


@subscribers_app.command("set")
def set_(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The subscriber's address.")],
    timezone: Annotated[str | None, typer.Option(help="IANA time zone.")] = None,
    send_hour: Annotated[int | None, typer.Option(help="Local hour to send (0-23).")] = None,
    frequency: Annotated[str | None, typer.Option(help="daily or weekly.")] = None,
    max_papers: Annotated[int | None, typer.Option(help="Papers per digest.")] = None,
    trending: Annotated[
        bool | None,
        typer.Option(
            "--trending/--no-trending", help="Send top trending papers when no alert matched."
        ),
    ] = None,
) -> None:
    """Change a subscriber's preferences; what is not given stays as it is."""
    context: Context = ctx.obj
    prefs = pipeline.Preferences(
        timezone=timezone,
        send_hour=send_hour,
        frequency=frequency,
        max_papers=max_papers,
        include_trending=trending,
    )
    if prefs == pipeline.Preferences():
        raise typer.BadParameter(
            "give at least one of --timezone, --send-hour, --frequency, --max-papers, "
            "--trending/--no-trending"
        )
    _print_subscriber(pipeline.update_preferences(context.engine(), email, prefs))


@subscribers_app.command("remove")
def remove(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The subscriber's address.")],
) -> None:
    """Delete a subscriber and everything that is theirs."""
    context: Context = ctx.obj
    pipeline.remove_subscriber(context.engine(), email)
    console.print(Text(f"removed {pipeline.normalize_email(email)}"), soft_wrap=True)


@alerts_app.command("add")
def add_alert(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The subscriber's address.")],
    query: Annotated[str, typer.Argument(help="The alert query.")],
) -> None:
    """Add an alert to a subscriber."""
    context: Context = ctx.obj
    info = pipeline.add_alert(
        context.engine(), email, query, settings=context.settings, now=now_utc()
    )
    _print_subscriber(info)


@alerts_app.command("remove")
def remove_alert(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The subscriber's address.")],
    query: Annotated[str, typer.Argument(help="The alert query, exactly as listed.")],
) -> None:
    """Remove an alert from a subscriber."""
    context: Context = ctx.obj
    info = pipeline.remove_alert(context.engine(), email, query)
    _print_subscriber(info)


@alerts_app.command("list")
def list_alerts(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The subscriber's address.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """List a subscriber's alerts."""
    context: Context = ctx.obj
    info = pipeline.find_subscriber(context.engine(), email)
    if as_json:
        print(json.dumps(_public(info)["alerts"], indent=2))
        return
    _print_subscriber(info)


def _public(info: SubscriberInfo) -> dict[str, object]:
    """What the JSON output shows: the token nonce is internal and stays out."""
    return {
        "id": info.id,
        "email": info.email,
        "status": info.status,
        "timezone": info.timezone,
        "send_hour": info.send_hour,
        "frequency": info.frequency,
        "max_papers": info.max_papers,
        "include_trending": info.include_trending,
        "created_at": info.created_at.isoformat(),
        "confirmed_at": info.confirmed_at.isoformat() if info.confirmed_at else None,
        "alerts": [
            {"id": alert.id, "query": alert.query, "created_at": alert.created_at.isoformat()}
            for alert in info.alerts
        ],
    }


def _print_subscriber(info: SubscriberInfo) -> None:
    # soft_wrap: one line per subscriber and per alert, whatever the terminal's width.
    console.print(
        Text(
            f"{info.email}  status={info.status}  {info.frequency} at {info.send_hour}:00 "
            f"{info.timezone}  max_papers={info.max_papers}  trending={info.include_trending}"
        ),
        soft_wrap=True,
    )
    for alert in info.alerts:
        console.print(Text(f"  alert {alert.id}: {alert.query}"), soft_wrap=True)
    if not info.alerts:
        console.print("  no alerts (gets the edition's top papers)")

"""`digest feeds write` and `digest feeds opml`: the static public feeds, a subscriber's OPML."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from digest.cli.app import Context, app, console
from digest.pipeline.feeds import subscriber_opml, write_static_feeds
from digest.pipeline.links import Links

feeds_app = typer.Typer(
    help="Write the public feeds; export a subscriber's feeds.", no_args_is_help=True
)
app.add_typer(feeds_app, name="feeds")


@feeds_app.command("write")
def write(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder to write to (default: the feeds_dir setting)."),
    ] = None,
) -> None:
    """Write the new papers feed as new.atom and new.rss, atomically."""
    context: Context = ctx.obj
    for path in write_static_feeds(context.engine(), settings=context.settings, out=out):
        console.print(str(path), highlight=False)


@feeds_app.command("opml")
def opml(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The subscriber's address.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this file instead of printing.")
    ] = None,
) -> None:
    """Print (or write) a subscriber's feeds as OPML: one per alert, and their private feed."""
    context: Context = ctx.obj
    body = subscriber_opml(
        context.engine(),
        email,
        settings=context.settings,
        links=Links.from_settings(context.settings),
    )
    if out is None:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
        return
    out.write_bytes(body)
    console.print(f"wrote {out}", highlight=False)

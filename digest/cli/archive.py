"""`digest papers list/show` and `digest stats`: look at what is stored."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from digest import pipeline
from digest.cli.app import Context, app, console
from digest.errors import NotFoundError

papers_app = typer.Typer(help="Look at stored papers.", no_args_is_help=True)
app.add_typer(papers_app, name="papers")


@papers_app.command("list")
def list_papers(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the newest stored papers."""
    context: Context = ctx.obj
    rows = pipeline.recent_papers(context.engine(), limit=limit)
    if as_json:
        print(json.dumps([asdict(row) for row in rows], indent=2, default=str))
        return
    table = Table()
    for column in ("id", "key", "title", "published", "upvotes"):
        table.add_column(column)
    for row in rows:
        # Titles are data: `[Re] ...` or `[/math]` must print as written, not as Rich markup.
        table.add_row(
            str(row.id),
            escape(row.key[:30]),
            escape(row.title[:80]),
            str(row.published or ""),
            "" if row.upvotes is None else str(row.upvotes),
        )
    console.print(table)


@papers_app.command("show")
def show_paper(
    ctx: typer.Context,
    ident: Annotated[str, typer.Argument(help="Row id, identity key or arXiv id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one paper with its metadata and sightings."""
    context: Context = ctx.obj
    paper = pipeline.find_paper(context.engine(), ident)
    if paper is None:
        raise NotFoundError(f"no paper {ident!r}")
    if as_json:
        print(json.dumps(asdict(paper), indent=2, default=str))
        return
    # Everything below is data from a dump: printed as written, never parsed as Rich markup.
    console.print(Text(paper.title, style="bold"))
    console.print(f"key: {paper.key}   arXiv: {paper.arxiv_id or '-'}", markup=False)
    authors = ", ".join(paper.authors) or (
        f"{paper.author_count} authors" if paper.author_count else "-"
    )
    console.print(f"authors: {authors}   organisation: {paper.organization or '-'}", markup=False)
    console.print(
        f"published: {paper.published or '-'}   upvotes: "
        f"{'-' if paper.upvotes is None else paper.upvotes}   first seen: {paper.first_seen_at}",
        markup=False,
    )
    console.print(f"sightings: {paper.sightings}")
    console.print()
    console.print(paper.abstract, markup=False)


@app.command()
def stats(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Count what is stored: papers, listings, editions, sightings."""
    context: Context = ctx.obj
    figures = asdict(pipeline.gather_stats(context.engine()))
    if as_json:
        print(json.dumps(figures))
        return
    table = Table(title="stored")
    table.add_column("what")
    table.add_column("count", justify="right")
    for name, value in figures.items():
        table.add_row(name, str(value))
    console.print(table)

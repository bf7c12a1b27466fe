"""`digest search`: preview an alert against the archive."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table
from rich.text import Text

from digest import pipeline
from digest.cli.app import Context, app, console


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="A query in the alert language.")],
    since: Annotated[
        str | None,
        typer.Option(
            help="Only papers first seen on or after this day (YYYY-MM-DD, the service's "
            "time zone)."
        ),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many results.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """Rank stored papers for a query and say why each matched."""
    context: Context = ctx.obj
    start = _since(since, timezone=context.settings.timezone)
    results = pipeline.search_archive(
        context.engine(), query, settings=context.settings, since=start, limit=limit
    )
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "id": result.paper.id,
                        "key": result.paper.key,
                        "title": result.paper.title,
                        "score": round(result.score, 4),
                        "matched_terms": result.explanation.matched_terms(),
                        "fields": {
                            term.text: list(term.fields)
                            for reason in result.explanation.reasons
                            for term in reason.terms
                        },
                        "snippet": result.explanation.snippet_text,
                    }
                    for result in results
                ],
                indent=2,
            )
        )
        return
    if not results:
        console.print("no paper matches")
        return
    table = Table(show_lines=True)
    table.add_column("score", justify="right")
    table.add_column("title")
    table.add_column("why")
    for result in results:
        why = "; ".join(
            f"{term.text} in {' and '.join(term.fields)}"
            for reason in result.explanation.reasons
            for term in reason.terms
        )
        table.add_row(f"{result.score:.2f}", Text(result.paper.title), Text(why))
    console.print(table)


def _since(value: str | None, *, timezone: str) -> datetime | None:
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter("use YYYY-MM-DD", param_hint="--since") from exc
    # An edition's day is the service's local day, so a day starts at local midnight.
    return datetime.combine(day, time(), tzinfo=ZoneInfo(timezone))

"""`digest demo`: the main job on the embedded default, in a fresh local folder.

A fresh SQLite database, the sample dumps dropped into the inbox one per simulated day, a few
subscribers with realistic alerts, and the daily job run for each day: digests land in a
Maildir, feeds in the feeds folder. It ends with where everything went.
"""

from __future__ import annotations

import email
import logging
import shutil
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text
from sqlalchemy.engine import Engine

from digest import pipeline
from digest.cli.app import Context, app, console
from digest.cli.run import print_report
from digest.config import Settings
from digest.pipeline.daily import run_daily
from digest.sources import expand_paths

DEFAULT_DUMPS = Path("tests/data/dumps")
DEMO_ADDRESS = "Demo Lab, 1 Example Road, 12345 Science City"
# (address, alerts, frequency): people of a medical-imaging lab.
SUBSCRIBERS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("ana@example.org", ("x-ray", '"foundation model"'), "daily"),
    ("ben@example.org", ("dermatology OR skin", "melanoma"), "weekly"),
    ("chen@example.org", ("surgical video", "title:segmentation -3d"), "daily"),
    ("dana@example.org", ("pathology, histopathology", "SAM"), "daily"),
    ("eve@example.org", (), "daily"),  # no alerts: gets each day's top papers
)


@app.command()
def demo(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Option(help="Fresh folder for the demo's files.")] = Path(
        "var/demo"
    ),
    dumps: Annotated[Path, typer.Option(help="Folder of sample dumps.")] = DEFAULT_DUMPS,
) -> None:
    """Run the daily job over the sample dumps, one simulated day each, and show the results."""
    context: Context = ctx.obj
    if logging.getLogger().getEffectiveLevel() >= logging.INFO:
        # The tables say what each day did; the stage log lines would say it twice.
        logging.getLogger("digest").setLevel(logging.WARNING)
    if not dumps.is_dir():
        raise typer.BadParameter(f"{dumps}: no such folder of sample dumps", param_hint="--dumps")
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    base = context.settings
    settings = base.model_copy(
        update={
            "database_url": f"sqlite:///{folder / 'digest.db'}",
            "data_dir": folder,
            "inbox_dir": folder / "inbox",
            "maildir_path": folder / "maildir",
            "mail_transport": "maildir",
            "postal_address": base.postal_address or DEMO_ADDRESS,
        }
    )
    engine = pipeline.open_store(settings)
    files = list(expand_paths([dumps]))
    first_day = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)
    first_day -= timedelta(days=len(files) - 1)
    for address, alerts, frequency in SUBSCRIBERS:
        pipeline.add_subscriber(
            engine,
            address,
            alerts=list(alerts),
            settings=settings,
            now=first_day - timedelta(days=1),
            prefs=pipeline.Preferences(frequency=frequency, send_hour=7),
        )
    for offset, path in enumerate(files):
        now = first_day + timedelta(days=offset)
        settings.inbox_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, settings.inbox_dir / path.name)
        report = run_daily(settings, now, engine=engine)
        console.print(Text(f"day {offset + 1}: {now:%Y-%m-%d} with {path.name}"))
        print_report(report)
        if not report.ok:
            raise typer.Exit(1)
    _summary(engine, settings, folder)


def _summary(engine: Engine, settings: Settings, folder: Path) -> None:
    stats = pipeline.gather_stats(engine)
    counts = pipeline.ledger_counts(engine)
    console.print(
        Text(
            f"stored {stats.papers} papers from {stats.listings} listings in {stats.editions} "
            f"editions; deliveries: "
            + ", ".join(f"{state} {n}" for state, n in sorted(counts.items()))
        )
    )
    mails = sorted((settings.maildir_path / "new").glob("*"))
    table = Table(title="where everything went")
    table.add_column("what")
    table.add_column("path")
    table.add_row("database", str(folder / "digest.db"))
    table.add_row("inbox (ingested dumps)", str(settings.inbox_dir / "done"))
    table.add_row(
        "Maildir (open in any mail client)", f"{settings.maildir_path} ({len(mails)} mails)"
    )
    if mails:
        newest = max(mails, key=lambda p: p.stat().st_mtime)
        eml = folder / "digest.eml"
        shutil.copy(newest, eml)
        table.add_row("a digest (.eml)", str(eml))
        html = _html_part(newest.read_bytes())
        if html is not None:
            page = folder / "digest.html"
            page.write_text(html, encoding="utf-8")
            table.add_row("its HTML (open in a browser)", str(page))
    for feed in sorted(Path(settings.feeds_dir).glob("*")):
        if feed.suffix in {".rss", ".atom"}:
            table.add_row(f"feed ({feed.suffix[1:]})", str(feed))
    console.print(table)


def _html_part(data: bytes) -> str | None:
    message = email.message_from_bytes(data, policy=default_policy)
    assert isinstance(message, EmailMessage)
    part = message.get_body(preferencelist=("html",))
    return None if part is None else str(part.get_content())

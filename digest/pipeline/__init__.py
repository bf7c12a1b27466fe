"""The orchestrator: the CLI, the scheduler and the web app call these functions, nothing below.

Each function wires the pure stages (ingest, rank, render, feeds) to the store, the file
system and the mailer. One module per job: opening the database, ingesting, the archive,
ranking, subscribers, planning, composing, sending, delivery.
"""

from digest.pipeline.archive import StoreStats, find_paper, gather_stats, recent_papers
from digest.pipeline.daily import DailyReport, StageReport, run_daily
from digest.pipeline.database import first_line, open_store, store_location
from digest.pipeline.delivery import (
    DeliveryRun,
    deliver,
    dry_run,
    ledger,
    ledger_counts,
    preview,
)
from digest.pipeline.ingest import ingest_bytes, ingest_inbox, ingest_paths, local_day
from digest.pipeline.ranking import SearchResult, ensure_term_stats, search_archive
from digest.pipeline.subscribers import (
    Preferences,
    add_alert,
    add_subscriber,
    find_subscriber,
    list_subscribers,
    normalize_email,
    remove_alert,
    remove_subscriber,
    update_preferences,
)

__all__ = [
    "DailyReport",
    "DeliveryRun",
    "Preferences",
    "SearchResult",
    "StageReport",
    "StoreStats",
    "add_alert",
    "add_subscriber",
    "deliver",
    "dry_run",
    "ensure_term_stats",
    "find_paper",
    "find_subscriber",
    "first_line",
    "gather_stats",
    "ingest_bytes",
    "ingest_inbox",
    "ingest_paths",
    "ledger",
    "ledger_counts",
    "list_subscribers",
    "local_day",
    "normalize_email",
    "open_store",
    "preview",
    "recent_papers",
    "remove_alert",
    "remove_subscriber",
    "run_daily",
    "search_archive",
    "store_location",
    "update_preferences",
]

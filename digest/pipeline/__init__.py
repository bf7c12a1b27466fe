"""The orchestrator: the CLI, the scheduler and the web app call these functions, nothing below.

Each function wires the pure stages (ingest, rank, render, feeds) to the store, the file
system and the mailer. One module per job: opening the database, ingesting, the archive,
subscribers.
"""

from digest.pipeline.archive import StoreStats, find_paper, gather_stats, recent_papers
from digest.pipeline.database import first_line, open_store, store_location
from digest.pipeline.ingest import ingest_bytes, ingest_inbox, ingest_paths, local_day

__all__ = [
    "StoreStats",
    "find_paper",
    "first_line",
    "gather_stats",
    "ingest_bytes",
    "ingest_inbox",
    "ingest_paths",
    "local_day",
    "open_store",
    "recent_papers",
    "store_location",
]

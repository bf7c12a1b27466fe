"""Import every command module so that they register on the app."""

from digest.cli import archive, deliver, demo, feeds, ingest, run, search, subscribers, web  # noqa: F401

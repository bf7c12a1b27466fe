"""The command line: `digest ...`. Thin: read arguments, call the pipeline, print the result."""

from __future__ import annotations

from digest.cli.app import app, main

__all__ = ["app", "main"]

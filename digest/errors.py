"""Domain exceptions. The CLI maps them to exit codes, the web app to status codes."""

from __future__ import annotations


class DigestError(Exception):
    """Base class of every error digest raises on purpose."""


class ConfigError(DigestError):
    """The configuration file or an environment variable is invalid."""


class InputError(DigestError):
    """A source (file, URL, payload) cannot be ingested; names the source and the reason."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class NotFoundError(DigestError):
    """A requested object does not exist."""

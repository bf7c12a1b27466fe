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


class QueryError(DigestError):
    """An alert query is malformed; says what is wrong and where (0-based character)."""

    def __init__(self, message: str, *, position: int | None = None) -> None:
        where = f" at character {position + 1}" if position is not None else ""
        super().__init__(f"{message}{where}")
        self.message = message
        self.position = position

"""Keeping tokens out of logs: a filter that redacts the path segment after a token prefix.

Private feed, unsubscribe, manage and confirm URLs carry a bearer token; anyone who reads an
access log line with one could act as the subscriber. The filter rewrites a record's message
and its string arguments (uvicorn's access log passes the path as an argument and formats it
later), keeping a feed's extension so that the line still says what was asked for.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

REDACTED = "[redacted]"
_TOKEN_SEGMENT = re.compile(
    r"(/(?:feeds/private|unsubscribe|manage|confirm)/)"
    r"([^/\s?#\"']+?)"
    r"((?:\.(?:atom|rss|opml))?)"
    r"(?=[/\s?#\"']|$)"
)
# uvicorn logs each request on its access logger; its error logger and digest's own loggers
# could name a URL in a message. Records propagated from child loggers skip a parent logger's
# filters, hence also the handlers.
LOGGERS = ("uvicorn.access", "uvicorn.error", "uvicorn", "digest")


def redact(text: str) -> str:
    """`text` with every token in a token path replaced by [redacted]."""
    return _TOKEN_SEGMENT.sub(rf"\1{REDACTED}\3", text)


class RedactTokens(logging.Filter):
    """Redacts token path segments in a record's message and arguments; drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(arg) for arg in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {key: _redacted(value) for key, value in record.args.items()}
        return True


def _redacted(value: object) -> object:
    return redact(value) if isinstance(value, str) else value


def install_log_redaction() -> None:
    """Add the filter to uvicorn's and digest's loggers and to every handler they and the root
    logger have now (idempotent; call again after a logging configuration replaces handlers)."""
    targets: list[logging.Filterer] = []
    for name in (*LOGGERS, None):
        logger = logging.getLogger(name)
        targets.append(logger)
        targets.extend(logger.handlers)
    for target in targets:
        if not any(isinstance(existing, RedactTokens) for existing in target.filters):
            target.addFilter(RedactTokens())

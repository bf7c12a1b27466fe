"""HTTP validators and freshness for feeds: strong ETags, Last-Modified, conditional GET.

The ETag is a hash of the body, which is a function of the stored data, so it is stable
across processes and hosts. Last-Modified is the newest stored timestamp behind the feed.
RFC 9110: If-None-Match wins over If-Modified-Since when both are sent; the latter is
compared as a date, at whole seconds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime


def etag_of(body: bytes) -> str:
    """A strong entity tag for a body."""
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def http_date(moment: datetime) -> str:
    """An IMF-fixdate (`Tue, 24 Nov 2026 06:00:00 GMT`)."""
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def not_modified(headers: Mapping[str, str], *, etag: str, last_modified: datetime) -> bool:
    """Whether a conditional GET can be answered 304 Not Modified."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        return _etag_matches(if_none_match, etag)
    if_modified_since = headers.get("if-modified-since")
    if if_modified_since is None:
        return False
    since = _parse_http_date(if_modified_since)
    if since is None:
        return False  # an unreadable date is ignored, as RFC 9110 says
    return last_modified.astimezone(UTC).replace(microsecond=0) <= since


def _etag_matches(header: str, etag: str) -> bool:
    """Weak comparison (W/ ignored), as If-None-Match uses; `*` matches any current body."""
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(candidate.strip().removeprefix("W/") == wanted for candidate in header.split(","))


def _parse_http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:  # `-0000` means UTC with no zone information
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)

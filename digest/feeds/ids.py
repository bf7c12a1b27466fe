"""Stable identifiers: `tag:` URIs (RFC 4151) made from what identifies a paper or a feed.

An entry id is built from the paper's identity key (`arxiv:2411.01234`, `title:...`), never
from its row id or the service's URL, so it survives re-renders, a new host, a re-ingest into
a fresh database and a move to PostgreSQL. A key that is not a safe URI segment (title keys
hold spaces and any letter) is hashed. The tagging authority is fixed for the same reason.
"""

from __future__ import annotations

import hashlib
import re

TAG_PREFIX = "tag:digest,2026:"
_SAFE_KEY = re.compile(r"[a-z0-9][a-z0-9:._-]{0,99}")


def entry_id(key: str) -> str:
    """The id of a paper's entry in every feed: `tag:digest,2026:paper:arxiv:2411.01234`."""
    if _SAFE_KEY.fullmatch(key):
        return f"{TAG_PREFIX}paper:{key}"
    return f"{TAG_PREFIX}paper:sha256:{_digest(key)}"


def feed_id(kind: str, detail: str | None = None) -> str:
    """The id of a feed: its kind, and for a search or private feed a hash of what it is for."""
    if detail is None:
        return f"{TAG_PREFIX}feed:{kind}"
    return f"{TAG_PREFIX}feed:{kind}:{_digest(detail)}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

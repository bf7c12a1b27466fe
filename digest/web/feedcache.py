"""Built feeds kept between requests, so that an unchanged archive answers without rebuilding.

Building a search or private feed ranks the whole feed window (about a second for 1,300
papers), and a 304 needs the body's ETag as much as a 200 does. An entry is found by the
archive's version (`pipeline.feeds.archive_version`, which moves with every ingest that
stores anything) and by what else the feed is a function of: its kind and format, the query,
or the subscriber as read with the token on this very request (alerts, address) and the
token itself. The settings are the app's own: one cache per app. A new version empties the
cache, since no older entry can be asked for again. Concurrent requests for a feed being
built wait for that build instead of repeating it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime

from digest.feeds import RenderedFeed
from digest.web.caching import etag_of

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 64 * 1024 * 1024  # some 600 feeds of 50 entries


@dataclass(frozen=True, slots=True)
class CachedFeed:
    """A built feed with its validators."""

    body: bytes
    media_type: str
    updated: datetime  # Last-Modified: the newest stored timestamp behind the feed
    etag: str


@dataclass(slots=True)
class _Build:
    """A build in progress that other requests for the same feed wait on."""

    done: threading.Event = field(default_factory=threading.Event)
    result: CachedFeed | None = None


class FeedCache:
    """Least recently used feeds up to `max_bytes` of bodies, for one archive version."""

    def __init__(self, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._version: Hashable = None
        self._entries: OrderedDict[Hashable, CachedFeed] = OrderedDict()
        self._size = 0
        self._building: dict[Hashable, _Build] = {}

    def get(
        self, version: Hashable, key: Hashable, build: Callable[[], RenderedFeed]
    ) -> CachedFeed:
        """The feed `key` at archive `version`: cached, or built now (exceptions pass through,
        nothing is cached for them)."""
        with self._lock:
            if version != self._version:
                self._clear(version)
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
            pending = self._building.get((version, key))
            owner = pending is None
            if pending is None:
                pending = self._building[(version, key)] = _Build()
        if not owner:
            pending.done.wait()
            if pending.result is not None:
                return pending.result
            return self._made(build)  # the build we waited for failed: say why ourselves
        try:
            pending.result = self._made(build)
        finally:
            with self._lock:
                del self._building[(version, key)]
                if pending.result is not None and version == self._version:
                    self._store(key, pending.result)
            pending.done.set()
        return pending.result

    def __len__(self) -> int:
        return len(self._entries)

    def _made(self, build: Callable[[], RenderedFeed]) -> CachedFeed:
        started = time.perf_counter()
        feed = build()
        log.debug("feeds: built %d bytes in %.3f s", len(feed.body), time.perf_counter() - started)
        return CachedFeed(
            body=feed.body,
            media_type=feed.media_type,
            updated=feed.updated,
            etag=etag_of(feed.body),
        )

    def _clear(self, version: Hashable) -> None:
        self._entries.clear()
        self._size = 0
        self._version = version

    def _store(self, key: Hashable, feed: CachedFeed) -> None:
        if len(feed.body) > self.max_bytes:
            return
        previous = self._entries.pop(key, None)
        if previous is not None:
            self._size -= len(previous.body)
        self._entries[key] = feed
        self._size += len(feed.body)
        while self._size > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._size -= len(evicted.body)

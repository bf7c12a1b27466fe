"""When a feed can next change: the next daily run, in the service's time zone.

Feeds change when the daily job ingests; until then a reader may keep what it has. The run
time is a local wall-clock time, so the delay follows daylight saving changes.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def next_daily_run(now: datetime, *, at: str, timezone: str) -> datetime:
    """The first moment after `now` at which the local clock reads `at` (HH:MM)."""
    zone = ZoneInfo(timezone)
    hours, minutes = (int(part) for part in at.split(":"))
    instant = now.astimezone(UTC)
    today = instant.astimezone(zone).date()
    for offset in range(3):  # today or tomorrow; a third day only to be safe
        candidate = _local(today + timedelta(days=offset), time(hours, minutes), zone)
        if candidate > instant:
            return candidate
    raise AssertionError("unreachable: a daily time recurs within three days")


def seconds_until_next_run(now: datetime, *, at: str, timezone: str) -> int:
    """Whole seconds from `now` until the next daily run (at least 1)."""
    delay = (next_daily_run(now, at=at, timezone=timezone) - now.astimezone(UTC)).total_seconds()
    return max(1, math.ceil(delay))


def _local(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """A local wall-clock time as a UTC instant (compared and subtracted in UTC: datetimes
    sharing a tzinfo compare by wall clock, which is wrong across a DST change)."""
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)

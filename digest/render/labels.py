"""Words for dates, counts and authors, the same in every mail and page, whatever the locale."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

# Spelled out here so that the output never depends on the process's locale.
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_NAMED_AUTHORS = 3


def date_label(day: date | None) -> str:
    """`24 Nov 2026`, or "" for no date."""
    if day is None:
        return ""
    return f"{day.day} {_MONTHS[day.month - 1][:3]} {day.year}"


def days_label(days: Sequence[date]) -> str:
    """The day or days a digest covers: `Tuesday 24 November 2026`, `18–24 November 2026`."""
    if not days:
        return "today"
    first, last = min(days), max(days)
    if first == last:
        return f"{_WEEKDAYS[first.weekday()]} {first.day} {_MONTHS[first.month - 1]} {first.year}"
    end = f"{last.day} {_MONTHS[last.month - 1]} {last.year}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{end}"
    if first.year == last.year:
        return f"{first.day} {_MONTHS[first.month - 1]} – {end}"
    return f"{first.day} {_MONTHS[first.month - 1]} {first.year} – {end}"


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """`1 paper`, `3 papers`, `1,204 papers`."""
    noun = singular if count == 1 else (plural or f"{singular}s")
    return f"{count:,} {noun}"


def authors_label(
    authors: Sequence[str], *, author_count: int | None, organization: str | None
) -> str:
    """`A. Author, B. Author`, `A, B, C and 10 more`, `13 authors`, the organisation, or ""."""
    names = [name for name in authors if name.strip()]
    if names:
        total = max(len(names), author_count or 0)
        if total <= MAX_NAMED_AUTHORS + 1 and len(names) == total:
            return ", ".join(names)
        shown = names[:MAX_NAMED_AUTHORS]
        return f"{', '.join(shown)} and {total - len(shown)} more"
    if author_count:
        return counted(author_count, "author")
    return organization or ""

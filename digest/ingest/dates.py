"""Dates as listing pages print them: `Nov 19, 2024`, or `Jan 11` with the year left out."""

from __future__ import annotations

import re
from datetime import date

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
MONTH_PATTERN = "|".join(sorted(_MONTHS, key=len, reverse=True))
# `Mar 11`, `Nov 19, 2024`, `Sep 8, 2025 3` (the trailing number is the upvote count).
# ASCII only: with Unicode case folding `Auguſt` (long s) or `Aprıl` (dotless i) would
# match and then miss the `_MONTHS` lookup.
DATE_LINE = re.compile(
    rf"^(?P<month>{MONTH_PATTERN})\.? (?P<day>\d{{1,2}})(?:, ?(?P<year>\d{{4}}))?"
    rf"(?: (?P<upvotes>\d{{1,7}}))?$",
    re.IGNORECASE | re.ASCII,
)


def resolve_date(month: str, day: int, year: int | None, *, reference: date) -> date | None:
    """The date a line means; without a year, the latest such day not after `reference`."""
    number = _MONTHS[month.lower()]
    if year is not None:
        try:
            return date(year, number, day)
        except ValueError:
            return None
    for candidate_year in range(reference.year, reference.year - 8, -1):
        try:
            candidate = date(candidate_year, number, day)
        except ValueError:  # Feb 29 in a common year, Apr 31...
            continue
        if candidate <= reference:
            return candidate
    return None

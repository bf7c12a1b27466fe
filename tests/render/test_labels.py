"""Dates, counts and authors in words, independent of the locale."""

from __future__ import annotations

from datetime import date

import pytest

from digest.render.labels import authors_label, counted, date_label, days_label


def test_days() -> None:
    assert days_label([date(2026, 11, 24)]) == "Tuesday 24 November 2026"
    assert days_label([date(2026, 11, 24), date(2026, 11, 18)]) == "18–24 November 2026"
    assert days_label([date(2026, 11, 30), date(2026, 12, 6)]) == "30 November – 6 December 2026"
    assert days_label([date(2026, 12, 30), date(2027, 1, 5)]) == "30 December 2026 – 5 January 2027"
    assert days_label([]) == "today"


def test_dates_and_counts() -> None:
    assert date_label(date(2025, 9, 8)) == "8 Sep 2025"
    assert date_label(None) == ""
    assert counted(1, "paper") == "1 paper"
    assert counted(0, "paper") == "0 papers"
    assert counted(1204, "new paper") == "1,204 new papers"
    assert counted(2, "child", "children") == "2 children"


@pytest.mark.parametrize(
    ("authors", "count", "organization", "expected"),
    [
        (("A", "B"), None, None, "A, B"),
        (("A", "B", "C", "D"), 4, None, "A, B, C, D"),
        (("A", "B", "C", "D", "E"), None, None, "A, B, C and 2 more"),
        (("A", "B"), 13, None, "A, B and 11 more"),
        ((), 13, None, "13 authors"),
        ((), 1, None, "1 author"),
        ((), None, "General Medical AI", "General Medical AI"),
        ((), None, None, ""),
    ],
)
def test_authors(
    authors: tuple[str, ...], count: int | None, organization: str | None, expected: str
) -> None:
    assert authors_label(authors, author_count=count, organization=organization) == expected

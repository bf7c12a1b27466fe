"""Builders of small listing sources (text dumps, daily papers JSON) for the ingestion tests."""

from __future__ import annotations

import json
from dataclasses import dataclass


def abstract(topic: str) -> str:
    """A prose abstract about `topic`, long enough to be fingerprinted (200+ characters)."""
    return (
        f"We study {topic} in depth. Our method improves on strong baselines across five "
        f"public benchmarks. We also release code and data for {topic}, and we analyse the "
        "failure cases that remain. Experiments show consistent gains over prior work."
    )


@dataclass(frozen=True)
class Entry:
    """One entry of a text dump; `date` is the metadata date line, e.g. `Sep 8, 2025 3`."""

    title: str
    abstract: str
    authors: int | None = None
    date: str | None = None


def text_dump(*entries: Entry, day: str = "Mar 11", newline: str = "\n") -> bytes:
    """The text of a daily papers page with these entries, as a browser copies it."""
    lines = ["new", "", "Get trending papers in your email inbox!", "", "Subscribe", "", day, ""]
    for entry in entries:
        lines += [entry.title, "", entry.abstract, ""]
        if entry.authors is not None or entry.date is not None:
            if entry.authors is not None:
                lines.append(f"  • {entry.authors} authors")
            lines += ["·", entry.date or "Nov 19, 2024", ""]
    return newline.join(lines).encode("utf-8")


def api_item(
    arxiv_id: str, title: str, summary: str, *, upvotes: int | None = None
) -> dict[str, object]:
    """One item of the daily papers JSON API."""
    paper: dict[str, object] = {
        "id": arxiv_id,
        "title": title,
        "summary": summary,
        "authors": [{"name": "Ada Lovelace"}, {"name": "Alan Turing"}],
        "publishedAt": "2026-11-20T00:00:00.000Z",
    }
    if upvotes is not None:
        paper["upvotes"] = upvotes
    return {"paper": paper, "title": title}


def json_dump(*items: dict[str, object]) -> bytes:
    """A daily papers JSON API response."""
    return json.dumps(list(items)).encode("utf-8")

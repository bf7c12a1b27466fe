"""Parse the daily papers JSON API (`/api/daily_papers`): a list of items around a `paper`."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from digest.errors import InputError
from digest.ingest.decode import normalize_text
from digest.ingest.identity import normalize_arxiv_id, title_key
from digest.models import ParsedListing, ParsedPaper, SourceFormat

# `\ud800` escapes decode to lone surrogates, which no database, feed or mail can encode.
_SURROGATES = re.compile("[\ud800-\udfff]")


def parse_json_listing(text: str, *, source: str) -> ParsedListing:
    """Parse the API's JSON array; items without a title or summary are skipped with a warning."""
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            source, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    except RecursionError as exc:
        raise InputError(source, "not valid JSON: nested too deeply") from exc
    except ValueError as exc:  # a number longer than Python converts (int_max_str_digits)
        raise InputError(source, f"not valid JSON: {exc}") from exc
    items = payload.get("papers") if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        raise InputError(source, "JSON is not a list of daily papers items")
    warnings: list[str] = []
    papers: list[ParsedPaper] = []
    seen: set[str] = set()
    for index, item in enumerate(items, start=1):
        paper = _parse_item(item, index=index, warnings=warnings)
        if paper is None:
            continue
        key = paper.arxiv_id or title_key(paper.title)
        if key in seen:
            warnings.append(f"item {index}: duplicate of an earlier item, skipped")
            continue
        seen.add(key)
        papers.append(replace(paper, position=len(papers) + 1))
    return ParsedListing(format=SourceFormat.JSON, papers=tuple(papers), warnings=tuple(warnings))


def _parse_item(item: Any, *, index: int, warnings: list[str]) -> ParsedPaper | None:
    if not isinstance(item, dict):
        warnings.append(f"item {index}: not an object, skipped")
        return None
    nested = item.get("paper")
    paper: dict[str, Any] = nested if isinstance(nested, dict) else item
    title = _text(paper.get("title")) or _text(item.get("title"))
    abstract = _text(paper.get("summary")) or _text(item.get("summary"))
    if not title or not abstract:
        missing = "paper.title" if not title else "paper.summary"
        warnings.append(f"item {index}: no {missing}, skipped")
        return None
    raw_authors = paper.get("authors")
    authors = tuple(
        name
        for author in (raw_authors if isinstance(raw_authors, list) else [])
        if isinstance(author, dict) and (name := _text(author.get("name")))
    )
    raw_id = paper.get("id")
    organization = paper.get("organization") or item.get("organization")
    return ParsedPaper(
        title=title,
        abstract=abstract,
        position=index,
        arxiv_id=normalize_arxiv_id(str(raw_id)) if raw_id else None,
        authors=authors,
        author_count=len(authors) or None,
        organization=_text(organization.get("fullname") or organization.get("name"))
        if isinstance(organization, dict)
        else None,
        published=_date(paper.get("publishedAt") or item.get("publishedAt")),
        upvotes=_int(paper.get("upvotes", item.get("upvotes"))),
    )


def _text(value: Any) -> str:
    # JSON escapes bypass the decoding step, so controls and odd spaces are cleaned here too.
    if not isinstance(value, str):
        return ""
    return " ".join(normalize_text(_SURROGATES.sub("\ufffd", value)).split())


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        return None

"""Parse the text of a daily papers listing page, copied out of a browser.

The page gives no markup, only lines: boilerplate, a listing day, then per entry a title line,
an abstract line and sometimes metadata (`• 13 authors` or a submitting organisation, `·`, a
date with an optional upvote count). Lines are first classified, then a small state machine
pairs titles with abstracts and attaches metadata, warning about whatever does not fit.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date

from digest.ingest.dates import DATE_LINE, resolve_date
from digest.ingest.identity import title_key
from digest.models import ParsedListing, ParsedPaper, SourceFormat

BOILERPLATE = frozenset(
    line.casefold()
    for line in (
        "new",
        "Get trending papers in your email inbox!",
        "Get trending papers in your email inbox once a day!",
        "Subscribe",
        "Daily Papers",
        "byAK and the research community",
    )
)
# One dump glues the Subscribe button to the first title: "SubscribeDermaCon-IN: ...". Titles
# may start in lower case ("nnU-Net: ..."); only "Subscriber(s)" and "Subscribed" are words.
_GLUED_SUBSCRIBE = re.compile(r"^Subscribe(?!(?:rs?|d)\b)\s*(?P<rest>.+)$")
_AUTHORS = re.compile(r"^[•·*-]?\s*(?P<count>\d[\d,]*)\s+authors?$", re.IGNORECASE)
_SEPARATOR = frozenset({"·", "•", "-"})
_SENTENCE_END = re.compile(r"[.!?](?:\s+[A-Z(\[]|$)")
# Abstracts end with a period; titles do not, though they may hold `?` and `!` ("Is X All You
# Need? Yes! ...") and must not be taken for a second paragraph of the abstract before them.
_PROSE_END = re.compile(r"\.[\"')\]]*$")
MAX_TITLE_CHARS = 300
# Real abstracts run to several hundred characters (the samples: 570 and up); prose lines of a
# README or a log are shorter, so 200 tells a listing from other text.
MIN_ABSTRACT_CHARS = 200


class _Kind(enum.Enum):
    TEXT = "text"
    AUTHORS = "authors"
    SEPARATOR = "separator"
    DATE = "date"


@dataclass(slots=True)
class _Line:
    kind: _Kind
    text: str
    number: int  # 1-based line number in the source, for warnings


@dataclass(slots=True)
class _Entry:
    title: str
    line: int
    abstract_parts: list[str] = field(default_factory=list)
    author_count: int | None = None
    organization: str | None = None
    published: date | None = None
    upvotes: int | None = None
    closed: bool = False  # metadata seen: the next text line starts a new entry


def parse_text_dump(text: str, *, today: date) -> ParsedListing:
    """Parse a listing page's text into entries; `today` resolves dates printed without a year."""
    warnings: list[str] = []
    lines, day = _classify(text)
    listing_day = resolve_date(day[0], day[1], None, reference=today) if day else None
    entries = _pair(lines, reference=listing_day or today, warnings=warnings)
    _check_last(entries, warnings=warnings)
    papers = _finish(entries, warnings=warnings)
    return ParsedListing(
        format=SourceFormat.TEXT,
        papers=tuple(papers),
        listing_day=listing_day,
        warnings=tuple(warnings),
    )


def _classify(text: str) -> tuple[list[_Line], tuple[str, int] | None]:
    """Drop blank and boilerplate lines, find the listing day, and tag metadata lines."""
    out: list[_Line] = []
    listing_day: tuple[str, int] | None = None
    in_header = True
    for number, raw in enumerate(text.split("\n"), start=1):
        line = " ".join(raw.split())
        if not line or line.casefold() in BOILERPLATE:
            continue
        if in_header:
            if glued := _GLUED_SUBSCRIBE.match(line):
                line = glued.group("rest")
            match = DATE_LINE.match(line)
            if match and not match.group("year") and not match.group("upvotes"):
                listing_day = (match.group("month"), int(match.group("day")))
                continue
        in_header = False
        out.append(_Line(_kind_of(line), line, number))
    return out, listing_day


def _kind_of(line: str) -> _Kind:
    if line in _SEPARATOR:
        return _Kind.SEPARATOR
    if _AUTHORS.match(line):
        return _Kind.AUTHORS
    if DATE_LINE.match(line):
        return _Kind.DATE
    return _Kind.TEXT


def _looks_like_title(line: str) -> bool:
    return len(line) <= MAX_TITLE_CHARS and not _looks_like_prose(line)


def _looks_like_prose(line: str) -> bool:
    """Abstracts are long, or several sentences ending with a period; titles are neither."""
    return len(line) > MAX_TITLE_CHARS or (
        len(_SENTENCE_END.findall(line)) >= 2 and _PROSE_END.search(line) is not None
    )


def _pair(lines: list[_Line], *, reference: date, warnings: list[str]) -> list[_Entry]:
    entries: list[_Entry] = []
    current: _Entry | None = None
    for index, line in enumerate(lines):
        if line.kind is _Kind.TEXT:
            nxt = lines[index + 1] if index + 1 < len(lines) else None
            if _is_organization(line, nxt) and current is not None and current.abstract_parts:
                current.organization = line.text
                continue
            if current is None or current.closed or current.abstract_parts:
                if current is not None and not current.closed and _continues_abstract(line, nxt):
                    # An abstract broken into paragraphs: the extra paragraph joins it.
                    current.abstract_parts.append(line.text)
                    continue
                if _looks_like_prose(line.text):
                    warnings.append(
                        f"line {line.number}: text without a title, skipped: {_clip(line.text)}"
                    )
                    continue
                current = _Entry(title=line.text, line=line.number)
                entries.append(current)
                continue
            # `current` has a title and waits for its abstract.
            if (
                _looks_like_title(line.text)
                and nxt is not None
                and nxt.kind is _Kind.TEXT
                and _looks_like_prose(nxt.text)
            ):
                warnings.append(
                    f"line {current.line}: entry has no abstract, skipped: {_clip(current.title)}"
                )
                entries.pop()
                current = _Entry(title=line.text, line=line.number)
                entries.append(current)
                continue
            current.abstract_parts.append(line.text)
            continue
        if current is None or not current.abstract_parts:
            warnings.append(f"line {line.number}: metadata outside an entry, ignored: {line.text}")
            continue
        _attach(current, line, reference=reference)
    return entries


def _continues_abstract(line: _Line, nxt: _Line | None) -> bool:
    """Another paragraph of the abstract: prose, or a sentence no abstract follows (`Code: x.`)."""
    if _looks_like_prose(line.text):
        return True
    before_abstract = nxt is not None and nxt.kind is _Kind.TEXT and _looks_like_prose(nxt.text)
    return _PROSE_END.search(line.text) is not None and not before_abstract


def _is_organization(line: _Line, nxt: _Line | None) -> bool:
    """A short line right before the `·` separator names the submitting organisation."""
    return (
        nxt is not None
        and nxt.kind is _Kind.SEPARATOR
        and len(line.text) <= MAX_TITLE_CHARS
        and not _looks_like_prose(line.text)
    )


def _attach(entry: _Entry, line: _Line, *, reference: date) -> None:
    if line.kind is _Kind.AUTHORS:
        match = _AUTHORS.match(line.text)
        assert match is not None
        entry.author_count = int(match.group("count").replace(",", ""))
    elif line.kind is _Kind.DATE:
        match = DATE_LINE.match(line.text)
        assert match is not None
        year = match.group("year")
        entry.published = resolve_date(
            match.group("month"),
            int(match.group("day")),
            int(year) if year else None,
            reference=reference,
        )
        if match.group("upvotes"):
            entry.upvotes = int(match.group("upvotes"))
        entry.closed = True
    # The separator only tells us metadata follows; nothing to store.


def _check_last(entries: list[_Entry], *, warnings: list[str]) -> None:
    """In a dump whose entries end with a date line, a last entry without one may be cut off."""
    last = entries[-1] if entries else None
    if last is None or last.closed or not last.abstract_parts:
        return  # complete, or already reported as an entry with no abstract
    if any(entry.closed for entry in entries):
        warnings.append(
            f"line {last.line}: last entry has no date line, the dump may be cut off: "
            f"{_clip(last.title)}"
        )


def _finish(entries: list[_Entry], *, warnings: list[str]) -> list[ParsedPaper]:
    papers: list[ParsedPaper] = []
    seen: dict[str, int] = {}
    for entry in entries:
        abstract = "\n\n".join(entry.abstract_parts)
        if not abstract:
            warnings.append(
                f"line {entry.line}: entry cut off (no abstract), skipped: {_clip(entry.title)}"
            )
            continue
        key = title_key(entry.title)
        if not key:
            warnings.append(f"line {entry.line}: title has no letters or digits, skipped")
            continue
        if key in seen:
            warnings.append(
                f"line {entry.line}: duplicate of entry {seen[key]}, skipped: {_clip(entry.title)}"
            )
            continue
        position = len(papers) + 1
        seen[key] = position
        papers.append(
            ParsedPaper(
                title=entry.title,
                abstract=abstract,
                position=position,
                author_count=entry.author_count,
                organization=entry.organization,
                published=entry.published,
                upvotes=entry.upvotes,
            )
        )
    return papers


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"

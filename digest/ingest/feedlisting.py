"""Parse arXiv's RSS 2.0 and Atom listings (and any feed shaped like them) with defusedxml."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from digest.errors import InputError
from digest.ingest.identity import normalize_arxiv_id, title_key
from digest.models import ParsedListing, ParsedPaper, SourceFormat

_ATOM = "{http://www.w3.org/2005/Atom}"
_DC = "{http://purl.org/dc/elements/1.1/}"
# arXiv's RSS descriptions and Atom-listing summaries put an announcement before the abstract:
# "arXiv:2411.01234v1 Announce Type: new \nAbstract: ..."
_ANNOUNCE_PREAMBLE = re.compile(
    r"^\s*arXiv:\S+\s+Announce Type:\s*\S+\s*Abstract:\s*", re.IGNORECASE
)
# HTML tags some feeds put in descriptions. Only known tag names: arXiv's plain-text abstracts
# hold LaTeX such as `$0<\alpha<1$ and $\beta>0$`, which a bare `<[^>]+>` would cut out.
_TAGS = re.compile(
    r"</?(?:a|abbr|b|blockquote|br|code|div|em|font|h[1-6]|hr|i|img|li|ol|p|pre|small|span"
    r"|strong|sub|sup|table|td|th|tr|u|ul)"
    r"""(?:\s+[\w:-]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'<>]+))?)*\s*/?>""",
    re.IGNORECASE,
)


def parse_feed_listing(text: str, *, source: str) -> ParsedListing:
    """Parse an RSS 2.0 or Atom document into entries."""
    try:
        # A str, not bytes: the text is already decoded, and re-encoding it would make expat
        # honour a stale `encoding="ISO-8859-1"` declaration and garble every accent.
        root = fromstring(text)
    except DefusedXmlException as exc:
        raise InputError(source, f"XML refused for safety: {exc}") from exc
    except ParseError as exc:
        raise InputError(source, f"not well-formed XML: {exc}") from exc
    warnings: list[str] = []
    if root.tag == f"{_ATOM}feed":
        entries = list(root.iter(f"{_ATOM}entry"))
        _refuse_api_error(entries, source=source)
        raw = [_atom_entry(entry) for entry in entries]
    elif root.tag == "rss" or root.tag.endswith("RDF"):
        raw = [_rss_item(item) for item in root.iter() if _local(item.tag) == "item"]
    else:
        raise InputError(source, f"XML root <{_local(root.tag)}> is neither RSS nor Atom")
    papers: list[ParsedPaper] = []
    seen: set[str] = set()
    for index, paper in enumerate(raw, start=1):
        if not paper.title or not paper.abstract:
            warnings.append(f"entry {index}: no title or abstract, skipped")
            continue
        key = paper.arxiv_id or title_key(paper.title)
        if key in seen:
            warnings.append(f"entry {index}: duplicate of an earlier entry, skipped")
            continue
        seen.add(key)
        papers.append(replace(paper, position=len(papers) + 1))
    return ParsedListing(format=SourceFormat.FEED, papers=tuple(papers), warnings=tuple(warnings))


def _refuse_api_error(entries: list[Element], *, source: str) -> None:
    """The arXiv API answers a bad query with a feed whose entry is a paper titled `Error`."""
    for entry in entries:
        if "arxiv.org/api/errors" in _child_text(entry, f"{_ATOM}id"):
            reason = _clean(_child_text(entry, f"{_ATOM}summary")) or "no detail"
            raise InputError(source, f"the arXiv API returned an error: {reason}")


def _atom_entry(entry: Element) -> ParsedPaper:
    link = next(
        (
            el.get("href", "")
            for el in entry.findall(f"{_ATOM}link")
            if el.get("rel", "alternate") == "alternate"
        ),
        "",
    )
    # The arXiv API lists <author><name>; arXiv's Atom listings put them all in one dc:creator.
    authors = tuple(
        _clean(name.text)
        for author in entry.findall(f"{_ATOM}author")
        if (name := author.find(f"{_ATOM}name")) is not None and name.text
    ) or _creators(entry)
    ident = _child_text(entry, f"{_ATOM}id")
    summary = _child_text(entry, f"{_ATOM}summary") or _child_text(entry, f"{_ATOM}content")
    return ParsedPaper(
        title=_clean(_child_text(entry, f"{_ATOM}title")),
        abstract=_clean(_ANNOUNCE_PREAMBLE.sub("", summary)),
        position=0,
        arxiv_id=normalize_arxiv_id(ident) or normalize_arxiv_id(link),
        authors=authors,
        author_count=len(authors) or None,
        published=_iso_date(
            _child_text(entry, f"{_ATOM}published") or _child_text(entry, f"{_ATOM}updated")
        ),
    )


def _rss_item(item: Element) -> ParsedPaper:
    children = {_local(child.tag): child for child in item}
    text = {name: (child.text or "") for name, child in children.items()}
    authors = _creators(item, tags=("creator", "author"))
    abstract = _ANNOUNCE_PREAMBLE.sub("", _TAGS.sub(" ", text.get("description", "")))
    ident = text.get("guid", "") + " " + text.get("link", "")
    return ParsedPaper(
        title=_clean(text.get("title", "")),
        abstract=_clean(abstract),
        position=0,
        arxiv_id=normalize_arxiv_id(ident) if "arxiv" in ident.lower() else None,
        authors=authors,
        author_count=len(authors) or None,
        published=_rfc822_date(text.get("pubDate", "") or text.get("date", "")),
    )


def _creators(element: Element, *, tags: tuple[str, ...] = ("creator",)) -> tuple[str, ...]:
    """Names from dc:creator (arXiv: one element, comma-separated) or RSS <author>."""
    creators = ",".join(child.text or "" for child in element if _local(child.tag) in tags)
    return tuple(name for part in creators.split(",") if (name := _clean(part)))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child_text(element: Element, tag: str) -> str:
    child = element.find(tag)
    return (child.text or "") if child is not None else ""


def _clean(value: str | None) -> str:
    return " ".join((value or "").split())


def _iso_date(value: str) -> date | None:
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00")).date()
    except ValueError:
        return None


def _rfc822_date(value: str) -> date | None:
    if not value.strip():
        return None
    try:
        return parsedate_to_datetime(value.strip()).date()
    except (TypeError, ValueError):
        return _iso_date(value)

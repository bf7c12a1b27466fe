"""Choose a parser from the content (or an explicit `--format`) and run it."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import date

from digest.errors import InputError
from digest.ingest.decode import DecodedText
from digest.ingest.feedlisting import parse_feed_listing
from digest.ingest.jsonapi import parse_json_listing
from digest.ingest.textdump import MAX_TITLE_CHARS, MIN_ABSTRACT_CHARS, parse_text_dump
from digest.models import ParsedListing, SourceFormat

log = logging.getLogger(__name__)

# How XML documents open, even when the root's attributes run over several lines.
_XML_START = re.compile(r"<(?:\?xml|!--|!doctype|(?:[\w.-]+:)?(?:rss|feed|rdf|html)\b)", re.I)


def detect_format(text: str) -> SourceFormat:
    """JSON starts with `[` or `{`, XML with a tag; anything else is a text listing."""
    head = text.lstrip()
    if head[:1] in ("[", "{"):
        return SourceFormat.JSON
    # A dump may start with a title such as `<script>alert(1)</script> Title`: XML is a known
    # opening, or a first line that is all tags.
    first_line = head.partition("\n")[0].rstrip()
    if _XML_START.match(head) or (first_line.startswith("<") and first_line.endswith(">")):
        return SourceFormat.FEED
    return SourceFormat.TEXT


def parse_listing(
    decoded: DecodedText, *, source: str, today: date, fmt: SourceFormat | None = None
) -> ParsedListing:
    """Parse decoded text in the given or detected format; refuse what holds no entries."""
    fmt = fmt or detect_format(decoded.text)
    if fmt is SourceFormat.JSON:
        listing = parse_json_listing(decoded.text, source=source)
    elif fmt is SourceFormat.FEED:
        if decoded.text.lstrip()[:1] != "<":
            raise InputError(source, "not XML: a feed must start with '<'")
        listing = parse_feed_listing(decoded.text, source=source)
    else:
        if detect_format(decoded.text) is SourceFormat.FEED and "<html" in decoded.text[:2000]:
            raise InputError(source, "an HTML page, not a listing: save the page's text instead")
        listing = parse_text_dump(decoded.text, today=today)
        _check_shape(listing, source=source)
    if not listing.papers:
        detail = f" ({listing.warnings[0]})" if listing.warnings else ""
        raise InputError(source, f"no paper entries found in this {fmt} source{detail}")
    return replace(listing, warnings=decoded.warnings + listing.warnings)


def _check_shape(listing: ParsedListing, *, source: str) -> None:
    """Refuse text that parses into pairs but is not a listing (a README, a log, prose)."""
    if not listing.papers:
        return
    good = sum(
        1
        for paper in listing.papers
        if len(paper.title) <= MAX_TITLE_CHARS and len(paper.abstract) >= MIN_ABSTRACT_CHARS
    )
    if good * 2 < len(listing.papers):
        raise InputError(
            source,
            f"does not look like a listing dump: only {good} of {len(listing.papers)} entries "
            "have a title line followed by an abstract",
        )

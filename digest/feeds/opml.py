"""OPML 2.0: a subscriber's feeds as one file a feed reader imports.

Deterministic like the feeds: no creation date, outlines in the order given.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from digest.feeds.content import xml_text


@dataclass(frozen=True, slots=True)
class Outline:
    """One feed of the list."""

    title: str
    xml_url: str  # the feed
    html_url: str  # the page it belongs to
    kind: str = "rss"  # OPML's type for any syndication feed, RSS or Atom


def build_opml(title: str, outlines: Sequence[Outline]) -> bytes:
    """An OPML 2.0 document (UTF-8) listing the feeds."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = xml_text(title)
    body = ET.SubElement(root, "body")
    for outline in outlines:
        ET.SubElement(
            body,
            "outline",
            type=outline.kind,
            text=xml_text(outline.title),
            title=xml_text(outline.title),
            xmlUrl=xml_text(outline.xml_url),
            htmlUrl=xml_text(outline.html_url),
        )
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"

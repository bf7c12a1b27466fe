"""An entry's HTML content, and the cleaning every string gets before it enters XML.

The content is escaped text with highlights: the abstract comes already escaped from the
explanation with its matched terms in `<mark>`, which this turns into `<strong>` because feed
readers' sanitizers (feedparser's among them) drop `<mark>` and with it the highlight.
Everything else (authors, alerts, URLs) is escaped here.
"""

from __future__ import annotations

import re

from markupsafe import Markup

from digest.render import labels
from digest.render.view import PaperView

# XML 1.0 forbids C0 controls other than tab/LF/CR, surrogates and U+FFFE/U+FFFF; C1 controls
# are legal but never meant in a title or an abstract (mojibake), so they go too.
_ILLEGAL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
_SPACING = re.compile("[\x0b\x0c\x85]")  # vertical tab, form feed, NEL: a break in the text


def xml_text(value: str) -> str:
    """`value` with the characters XML cannot hold removed (line-like ones become spaces)."""
    return _ILLEGAL.sub("", _SPACING.sub(" ", value))


def entry_html(paper: PaperView, *, service_name: str) -> str:
    """The entry's content: who and when, the highlighted abstract, why, and the links."""
    parts: list[Markup] = []
    meta = [
        paper.authors,
        labels.date_label(paper.published),
        labels.counted(paper.upvotes, "upvote") if paper.upvotes else "",
    ]
    shown = " · ".join(part for part in meta if part)
    if shown:
        parts.append(Markup("<p>{}</p>").format(shown))
    abstract = paper.snippet_html.replace("<mark>", "<strong>").replace("</mark>", "</strong>")
    parts.append(Markup("<p>{}</p>").format(Markup(abstract)))
    if paper.chips:
        alerts = Markup(", ").join(Markup("<em>{}</em>").format(chip) for chip in paper.chips)
        parts.append(Markup("<p>Matched: {}</p>").format(alerts))
    links = [
        (paper.arxiv_url, "arXiv"),
        (paper.daily_url, "Daily papers"),
        (paper.github_url, "Code"),
        (paper.url, f"On {service_name}"),
    ]
    anchors = [Markup('<a href="{}">{}</a>').format(url, text) for url, text in links if url]
    parts.append(Markup("<p>{}</p>").format(Markup(" · ").join(anchors)))
    return xml_text(str(Markup("\n").join(parts)))

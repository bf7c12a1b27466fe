"""Build RSS 2.0 and Atom 1.0 with feedgen, deterministically.

feedgen stamps a feed and each entry with the clock unless told otherwise, and names its own
version as generator; here every date comes from the view (stored timestamps) and the
generator is the service's name, so the output is a function of the view alone. Strings are
cleaned of characters XML cannot hold before they reach lxml, which would refuse them.
"""

from __future__ import annotations

from feedgen.feed import FeedGenerator

from digest.feeds.content import entry_html, xml_text
from digest.feeds.ids import entry_id
from digest.feeds.model import FeedFormat, FeedItem, FeedView, RenderedFeed

LANGUAGE = "en"


def build_feed(view: FeedView, fmt: FeedFormat) -> RenderedFeed:
    """The feed as RSS 2.0 or Atom 1.0 bytes (UTF-8), entries in the view's order."""
    generator = FeedGenerator()
    # dc:creator carries author names in RSS, whose <author> must be an e-mail address.
    generator.load_extension("dc", atom=False, rss=True)
    generator.id(view.id)
    generator.title(xml_text(view.title))
    generator.description(xml_text(view.description))
    generator.author(name=xml_text(view.author))
    generator.link(href=view.self_url(fmt), rel="self", type=fmt.media_type)
    # Last: feedgen takes the RSS channel <link> from the last link given.
    generator.link(href=view.home_url, rel="alternate", type="text/html")
    generator.language(LANGUAGE)
    generator.generator(xml_text(view.generator))
    generator.updated(view.updated)
    generator.lastBuildDate(view.updated)
    for item in view.items:
        _add_entry(generator, item, service_name=view.author)
    if fmt is FeedFormat.ATOM:
        body: bytes = generator.atom_str(pretty=True)
    else:
        body = generator.rss_str(pretty=True)
    return RenderedFeed(body=body, media_type=fmt.media_type, updated=view.updated)


def _add_entry(generator: FeedGenerator, item: FeedItem, *, service_name: str) -> None:
    paper = item.paper
    entry = generator.add_entry(order="append")
    # A tag: URI is not a URL: feedgen writes the RSS guid with isPermaLink="false".
    entry.id(entry_id(paper.key))
    entry.title(xml_text(paper.title))
    # One alternate link: the paper's page here. arXiv and code links go in the content,
    # because feedgen 1.0 drops the rel of entry links, and two alternates would be invalid.
    entry.link(href=paper.url, rel="alternate", type="text/html")
    entry.content(entry_html(paper, service_name=service_name), type="html")
    entry.updated(item.seen_at)
    entry.published(item.seen_at)
    names = [xml_text(name) for name in item.authors]
    if names:
        entry.author([{"name": name} for name in names])
        entry.dc.dc_creator(names)
    for chip in paper.chips:
        entry.category(term=xml_text(chip), label=xml_text(chip))

"""Feeds: RSS 2.0, Atom 1.0 and OPML built from view models. Pure: no I/O, no SQL, no clock.

The pipeline gathers the papers, ranks and explains them, and hands a `FeedView` here;
`build_feed` turns it into bytes that depend on nothing but the view, so the same stored data
always gives the same feed, byte for byte.
"""

from digest.feeds.build import build_feed
from digest.feeds.ids import entry_id, feed_id
from digest.feeds.model import FeedFormat, FeedItem, FeedView, RenderedFeed, feed_item
from digest.feeds.opml import Outline, build_opml

__all__ = [
    "FeedFormat",
    "FeedItem",
    "FeedView",
    "Outline",
    "RenderedFeed",
    "build_feed",
    "build_opml",
    "entry_id",
    "feed_id",
    "feed_item",
]

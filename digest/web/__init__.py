"""The web app: feeds, OPML, paper pages, one-click unsubscribe. Thin handlers over pipeline."""

from digest.web.app import create_app

__all__ = ["create_app"]

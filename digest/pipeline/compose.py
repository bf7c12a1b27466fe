"""From a ledger row to a finished message: the view model, the rendering, the MIME.

A Composer lives for one run: it holds the Jinja environment and caches what many
subscribers share (a paper's explanation for a given set of alerts, the parsed queries).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from digest.config import Settings
from digest.deliver.mailer import OutgoingMessage
from digest.deliver.message import build_message
from digest.models import StoredPaper, SubscriberInfo
from digest.pipeline.links import Links
from digest.pipeline.ranking import parsed_query
from digest.rank.explain import Explanation, explain
from digest.render.digest import paper_view, render_digest
from digest.render.environment import make_environment
from digest.render.view import DigestView, PaperView, RenderedMail

SUBJECT_TITLE_CHARS = 90


class Composer:
    """Builds, renders and wraps digests for one run."""

    def __init__(self, settings: Settings, *, links: Links | None = None) -> None:
        self.settings = settings
        self.links = links or Links.from_settings(settings)
        self.env = make_environment()
        self._explanations: dict[tuple[int, tuple[str, ...]], Explanation] = {}
        self._views: dict[tuple[int, tuple[str, ...], str | None, bool], PaperView] = {}

    def view(
        self,
        subscriber: SubscriberInfo,
        content: Mapping[str, Any],
        papers: Mapping[int, StoredPaper],
    ) -> DigestView:
        """The digest view of a planned ledger row's content."""
        queries = {alert.id: alert.query for alert in subscriber.alerts}
        shown: list[PaperView] = []
        for item in content.get("papers", []):
            paper = papers.get(int(item["id"]))
            if paper is None:  # deleted since planning: nothing to show
                continue
            texts = tuple(queries[a] for a in item.get("alerts", []) if a in queries)
            near = queries.get(int(item["related_to"])) if "related_to" in item else None
            trending = bool(item.get("trending"))
            key = (paper.id, texts, near, trending)
            view = self._views.get(key)
            if view is None:
                view = paper_view(
                    paper,
                    explanation=self._explain(paper, texts) if texts else None,
                    base_url=self.settings.base_url,
                    # Semantic matching: no word matched, so say what it is close to.
                    chips=(f"related to {near}",) if near else None,
                    trending=trending,
                )
                if len(self._views) > 50_000:  # a long run: bounded memory
                    self._views.clear()
                self._views[key] = view
            shown.append(view)  # many subscribers share a paper's view: the same alerts
        days = tuple(date.fromisoformat(day) for day in content.get("days", []))
        matched = int(content.get("matched", 0))
        return DigestView(
            email=subscriber.email,
            subject=self._subject(shown, matched=matched),
            preheader=" · ".join(paper.title for paper in shown[:3]),
            days=days,
            new_count=int(content.get("new", 0)),
            seen_count=int(content.get("seen", 0)),
            matched_count=matched,
            papers=tuple(shown),
            # Matched beyond the subscriber's max_papers: the rest is on the web page.
            more_count=max(
                0, matched - sum(1 for item in content.get("papers", []) if item.get("alerts"))
            ),
            more_url=self.links.digest_url(
                subscriber, day=days[-1].isoformat() if days else "latest"
            ),
            manage_url=self.links.manage_url(subscriber),
            unsubscribe_url=self.links.unsubscribe_url(subscriber),
            feed_url=self.links.feed_url(subscriber),
            postal_address=self.settings.postal_address,
            service_name=self.settings.service_name,
            base_url=self.settings.base_url,
        )

    def render(self, view: DigestView) -> RenderedMail:
        """HTML and text, cut to the size cap."""
        return render_digest(self.env, view, max_bytes=self.settings.max_email_bytes)

    def message(
        self,
        subscriber: SubscriberInfo,
        content: Mapping[str, Any],
        papers: Mapping[int, StoredPaper],
        *,
        message_id: str,
        now: datetime,
        key: int = 0,
    ) -> OutgoingMessage:
        """The finished message for one ledger row."""
        view = self.view(subscriber, content, papers)
        rendered = self.render(view)
        return build_message(
            rendered,
            sender=self.settings.mail_from,
            recipient=subscriber.email,
            message_id=message_id,
            date=now,
            list_id=self.settings.list_id,
            unsubscribe_url=view.unsubscribe_url,  # the footer's link, made once
            unsubscribe_mailto=self.links.unsubscribe_mailto(),
            service_name=self.settings.service_name,
            key=key,
        )

    def _explain(self, paper: StoredPaper, texts: tuple[str, ...]) -> Explanation:
        key = (paper.id, texts)
        cached = self._explanations.get(key)
        if cached is None:
            alerts = [
                (index, query)
                for index, text in enumerate(texts)
                if (query := parsed_query(text)) is not None
            ]
            cached = explain(alerts, title=paper.title, abstract=paper.abstract)
            if len(self._explanations) > 50_000:  # a long run: bounded memory
                self._explanations.clear()
            self._explanations[key] = cached
        return cached

    def _subject(self, papers: list[PaperView], *, matched: int) -> str:
        name = self.settings.service_name
        if not papers:
            return f"{name}: nothing new for you"
        top = papers[0].title
        if len(top) > SUBJECT_TITLE_CHARS:
            # ASCII dots: an ellipsis character alone would force RFC 2047 encoding.
            top = top[: SUBJECT_TITLE_CHARS - 3].rstrip() + "..."
        if matched == 0:
            return f"{name}: trending today: {top}"
        others = matched - 1
        return f"{name}: {top}" + (f" (+{others} more)" if others else "")

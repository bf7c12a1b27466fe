"""Digest and notice mails: paper views in, subject + HTML + text out. Pure, no I/O.

A paper looks the same in every subscriber's digest that shows it with the same alerts and
highlights, so each paper's HTML and text blocks are rendered once and cached on the
environment; a digest renders only its shell around the cached blocks, and hands both bodies
on in pieces (`BodyParts`) so that MIME can reuse each block's encoding too. The HTML is kept
under a byte budget (Gmail clips at ~102 KB) by cutting the paper list, never the footer.
"""

from __future__ import annotations

import dataclasses
import functools
import secrets
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import jinja2
from markupsafe import Markup, escape

from digest.models import StoredPaper
from digest.rank.explain import SNIPPET_CHARS, Explanation
from digest.render import labels, links
from digest.render.view import BodyParts, DigestView, NoticeView, PaperView, RenderedMail

DEFAULT_MAX_BYTES = 90_000
# Paper blocks kept per environment, least recently used dropped first: a day's papers times
# the alert mixes that match them. 100,000 synthetic subscribers (1-6 alerts from a pool of
# 40) over 313 papers need 46,400 distinct blocks; 8,192 serve 93 % of the lookups (4,096:
# 88 %, 16,384: 96 %; benchmarks/deliver.py). A block takes about 9 KB with its MIME
# encodings (6 KB here: a "…" in a snippet makes the whole block a 2-byte-per-character str),
# so this cache and deliver/message.py's hold about 70 MB when full.
BLOCK_CACHE_SIZE = 8192
TRENDING = "trending"
NoticeKind = Literal["confirm", "welcome"]
_CACHE_ATTRIBUTE = "digest_paper_blocks"
# paper_view runs per paper per subscriber: scan each abstract for its repository once.
_repository_url = functools.lru_cache(maxsize=4096)(links.repository_url)


def paper_view(
    paper: StoredPaper,
    *,
    explanation: Explanation | None,
    base_url: str,
    chips: Iterable[str] | None = None,
    trending: bool = False,
) -> PaperView:
    """A stored paper as a mail shows it, highlighted by the explanation when there is one.

    The chips default to the matched alerts as typed (the explanation's reasons), or
    "trending" for a paper sent because it trends.
    """
    if explanation is not None:
        title_html = explanation.title_html
        snippet_html = explanation.snippet_html
        snippet_text = explanation.snippet_text
    else:
        title_html = str(escape(paper.title))
        snippet_text = _lead(paper.abstract)
        snippet_html = str(escape(snippet_text))
    if chips is None:
        chips = [reason.query for reason in explanation.reasons] if explanation else []
    shown_chips = tuple(dict.fromkeys(chips)) or ((TRENDING,) if trending else ())
    return PaperView(
        id=paper.id,
        key=paper.key,
        title=paper.title,
        title_html=title_html,
        url=f"{base_url.rstrip('/')}/papers/{paper.id}",
        arxiv_url=links.arxiv_url(paper.arxiv_id),
        daily_url=links.daily_url(paper.arxiv_id),
        github_url=_repository_url(paper.abstract),
        authors=labels.authors_label(
            paper.authors, author_count=paper.author_count, organization=paper.organization
        ),
        published=paper.published,
        upvotes=paper.upvotes,
        snippet_html=snippet_html,
        snippet_text=snippet_text,
        chips=shown_chips,
        trending=trending,
    )


def render_digest(
    env: jinja2.Environment, view: DigestView, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> RenderedMail:
    """Render a digest; papers that would push the HTML past `max_bytes` become a "more" link."""
    blocks = _paper_blocks(env)
    rendered = [blocks.block(paper) for paper in view.papers]
    shell = blocks.html_shell(view)
    if shell.size + sum(block.size for block in rendered) > max_bytes:
        view, shell = _cut(blocks, view, rendered=rendered, max_bytes=max_bytes)
        rendered = rendered[: len(view.papers)]
    html_parts = BodyParts(shell.start, tuple(block.html for block in rendered), shell.end)
    text_parts = blocks.text_parts(view, rendered)
    return RenderedMail(
        subject=view.subject,
        html=_joined(html_parts),
        text=_joined(text_parts),
        html_parts=html_parts,
        text_parts=text_parts,
    )


def render_notice(
    env: jinja2.Environment, view: NoticeView, *, kind: NoticeKind = "confirm"
) -> RenderedMail:
    """Render a confirmation mail (double opt-in) or the welcome mail that follows it."""
    if kind not in ("confirm", "welcome"):
        raise ValueError(f"unknown notice kind {kind!r}")
    html = env.get_template(f"email/{kind}.html").render(view=view)
    text = env.get_template(f"email/{kind}.txt").render(view=view)
    return RenderedMail(subject=view.subject, html=html, text=text)


@dataclass(frozen=True, slots=True)
class _Block:
    """One paper's rendered HTML, its size in bytes, and its text with the blank line after it."""

    html: str
    text: str  # ends with "\n\n": blocks are separated by a blank line in the text part
    size: int


@dataclass(frozen=True, slots=True)
class _Shell:
    """A digest's HTML around where its papers go, and the bytes the two halves take."""

    start: str
    end: str
    size: int


class _PaperBlocks:
    """The digest templates and a bounded cache of rendered paper blocks."""

    def __init__(self, env: jinja2.Environment, *, size: int = BLOCK_CACHE_SIZE) -> None:
        self._paper_html = env.get_template("email/_paper.html")
        self._paper_text = env.get_template("email/_paper.txt")
        self._digest_html = env.get_template("email/digest.html")
        self._digest_text = env.get_template("email/digest.txt")
        self._size = size
        self._blocks: OrderedDict[tuple[object, ...], _Block] = OrderedDict()
        self._lock = threading.Lock()
        # The shells render with this in place of the papers and are split on it: random, so
        # no paper title or address in the view can contain it.
        self._marker = f"digest-papers-{secrets.token_hex(16)}"

    def block(self, paper: PaperView) -> _Block:
        key = _block_key(paper)
        with self._lock:
            found = self._blocks.get(key)
            if found is not None:
                self._blocks.move_to_end(key)
                return found
        meta = _meta(paper)
        html = self._paper_html.render(paper=paper, meta=meta)
        text = self._paper_text.render(paper=paper, meta=meta).rstrip("\n") + "\n\n"
        found = _Block(html=html, text=text, size=len(html.encode()))
        with self._lock:
            self._blocks[key] = found
            if len(self._blocks) > self._size:
                self._blocks.popitem(last=False)  # the least recently used
        return found

    def html_shell(self, view: DigestView) -> _Shell:
        """The digest's HTML split where the paper blocks go."""
        html = self._digest_html.render(view=view, papers_html=Markup(self._marker))
        start, end = self._split(html, "digest.html")
        return _Shell(start, end, size=len(start.encode()) + len(end.encode()))

    def text_parts(self, view: DigestView, blocks: list[_Block]) -> BodyParts:
        """The digest's text part in pieces (the template joins blocks with a blank line)."""
        if not blocks:  # the template says something else when there are no papers
            return BodyParts("", (), self._digest_text.render(view=view, papers_text=""))
        text = self._digest_text.render(view=view, papers_text=self._marker)
        start, end = self._split(text, "digest.txt")
        pieces = tuple(block.text for block in blocks)
        if end.startswith("\n\n") and start.endswith("\n"):
            return BodyParts(start, pieces, end[2:])  # the last block's blank line is end's
        return BodyParts("", (), start + "".join(pieces)[:-2] + end)

    def _split(self, rendered: str, template: str) -> tuple[str, str]:
        start, found, end = rendered.partition(self._marker)
        if not found or self._marker in end:
            raise RuntimeError(f"email/{template} must show its papers exactly once")
        return start, end


def _joined(parts: BodyParts) -> str:
    return "".join((parts.start, *parts.blocks, parts.end))


def _paper_blocks(env: jinja2.Environment) -> _PaperBlocks:
    """The environment's block cache, made on first use (Environment.extend is Jinja's way)."""
    blocks = getattr(env, _CACHE_ATTRIBUTE, None)
    if not isinstance(blocks, _PaperBlocks):
        blocks = _PaperBlocks(env)
        env.extend(**{_CACHE_ATTRIBUTE: blocks})
    return blocks


def _cut(
    blocks: _PaperBlocks, view: DigestView, *, rendered: list[_Block], max_bytes: int
) -> tuple[DigestView, _Shell]:
    """The longest prefix of the papers whose digest fits in `max_bytes`, and its HTML shell."""

    def shown(count: int) -> DigestView:
        hidden = len(view.papers) - count
        return dataclasses.replace(
            view, papers=view.papers[:count], more_count=view.more_count + hidden
        )

    empty = blocks.html_shell(shown(0)).size
    if empty > max_bytes:
        raise ValueError(f"a digest without papers takes {empty} bytes, over max_bytes={max_bytes}")
    count, used = 0, empty
    for block in rendered:
        if used + block.size > max_bytes:
            break
        used += block.size
        count += 1
    while True:  # the "N more" line may differ by a digit or two from the estimate
        cut = shown(count)
        shell = blocks.html_shell(cut)
        if shell.size + sum(block.size for block in rendered[:count]) <= max_bytes or count == 0:
            return cut, shell
        count -= 1


def _block_key(paper: PaperView) -> tuple[object, ...]:
    # Everything a block shows (the same for every subscriber with the same alerts on it).
    return (
        paper.id,
        paper.title_html,
        paper.snippet_html,
        paper.chips,
        paper.trending,
        paper.url,
        paper.title,
        paper.snippet_text,
        paper.arxiv_url,
        paper.daily_url,
        paper.github_url,
        paper.authors,
        paper.published,
        paper.upvotes,
    )


def _meta(paper: PaperView) -> str:
    """`Authors · 24 Nov 2026 · 12 upvotes`: the parts the paper has."""
    parts = [
        paper.authors,
        labels.date_label(paper.published),
        labels.counted(paper.upvotes, "upvote") if paper.upvotes else "",
    ]
    return " · ".join(part for part in parts if part)


def _lead(abstract: str, chars: int = SNIPPET_CHARS) -> str:
    """The abstract's beginning, cut at a word boundary, for a paper with no highlights."""
    if len(abstract) <= chars:
        return abstract
    space = abstract.rfind(" ", 0, chars)
    end = space if space > chars // 2 else chars
    return abstract[:end].rstrip(" ,;:") + "…"

"""render_digest hands both bodies on in pieces; they are what the templates give whole."""

from __future__ import annotations

import dataclasses

import jinja2
import pytest
from markupsafe import Markup

from digest.render.digest import _meta, paper_view, render_digest
from digest.render.view import BodyParts, DigestView, RenderedMail
from tests.render.builders import digest_of, stored, view_of


def whole(parts: BodyParts | None) -> str:
    assert parts is not None
    return parts.start + "".join(parts.blocks) + parts.end


def templates_whole(env: jinja2.Environment, view: DigestView) -> tuple[str, str]:
    """The digest as the templates render it with every shown paper's block inline."""
    html = [
        env.get_template("email/_paper.html").render(paper=p, meta=_meta(p)) for p in view.papers
    ]
    text = [
        env.get_template("email/_paper.txt").render(paper=p, meta=_meta(p)).rstrip("\n")
        for p in view.papers
    ]
    return (
        env.get_template("email/digest.html").render(view=view, papers_html=Markup("".join(html))),
        env.get_template("email/digest.txt").render(view=view, papers_text="\n\n".join(text)),
    )


def shown_view(mail: RenderedMail, view: DigestView) -> DigestView:
    """The view as the mail shows it (after a cut, fewer papers and a larger "more" count)."""
    count = mail.html.count('class="title-link"')
    hidden = len(view.papers) - count
    return dataclasses.replace(
        view, papers=view.papers[:count], more_count=view.more_count + hidden
    )


TRENDING = paper_view(stored(3), explanation=None, base_url="https://x.org", trending=True)
CASES = {
    "one paper": digest_of((view_of(stored(1)),)),
    "twenty papers": digest_of(tuple(view_of(stored(n)) for n in range(1, 21))),
    "no papers": digest_of((), matched_count=0),
    "trending": digest_of((TRENDING,), matched_count=0),
    "more link": digest_of((view_of(stored(2)),), more_count=4),
    "cut": digest_of(tuple(view_of(stored(n)) for n in range(1, 80))),
    "odd title": digest_of(
        (view_of(stored(4, title="A title with\ta tab, é, = and \r\n a break  ")),),
        subject="Subject with é",
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_the_pieces_join_to_the_bodies_the_templates_render(
    env: jinja2.Environment, name: str
) -> None:
    view = CASES[name]
    mail = render_digest(env, view, max_bytes=40_000)
    assert mail.html_parts is not None
    assert mail.text_parts is not None
    assert whole(mail.html_parts) == mail.html
    assert whole(mail.text_parts) == mail.text
    for piece in (mail.html_parts.start, *mail.html_parts.blocks, mail.text_parts.start):
        assert piece == "" or piece.endswith("\n")
    for piece in mail.text_parts.blocks:
        assert piece.endswith("\n")
    assert (mail.html, mail.text) == templates_whole(env, shown_view(mail, view))
    assert len(mail.html.encode()) <= 40_000


def test_a_paper_shown_to_two_subscribers_is_the_same_block_object(
    env: jinja2.Environment,
) -> None:
    paper = view_of(stored(9_002))
    first = render_digest(env, digest_of((paper,), email="a@example.org"))
    second = render_digest(env, digest_of((paper,), email="b@example.org"))
    assert first.html_parts is not None
    assert second.html_parts is not None
    assert first.html_parts.blocks[0] is second.html_parts.blocks[0]
    assert first.html_parts.end != second.html_parts.end  # the footer names the reader

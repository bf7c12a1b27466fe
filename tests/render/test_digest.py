"""Digest mails: escaping, links, the length cut, the text twin, the paper block cache."""

from __future__ import annotations

import html
import re

import jinja2
import pytest

from digest.rank.explain import explain
from digest.rank.query import parse_query
from digest.render.digest import paper_view, render_digest
from tests.render.builders import BASE_URL, Elements, digest_of, stored, view_of

XSS = "<script>alert(1)</script>"


def _footer_ok(html: str, text: str) -> None:
    doc = Elements(html)
    for url in (
        f"{BASE_URL}/unsubscribe/unsubscribe-token",
        f"{BASE_URL}/manage/manage-token",
        f"{BASE_URL}/feeds/feed-token.atom",
    ):
        assert url in doc.hrefs()
        assert url in text
    for line in ("Example Lab", "1 Research Road", "12345 Science City"):
        assert line in doc.visible_text()
        assert line in text
    assert "You get this mail because ada@example.org subscribed" in doc.visible_text()
    assert html.rstrip().endswith("</html>")


def test_a_script_in_a_title_is_text_in_both_parts(env: jinja2.Environment) -> None:
    paper = stored(title=f"{XSS} & <b>bold</b> segmentation")
    query = parse_query("segmentation")
    explanation = explain([(1, query)], title=paper.title, abstract=paper.abstract)
    view = paper_view(paper, explanation=explanation, base_url=BASE_URL)
    mail = render_digest(env, digest_of((view,), preheader=XSS, subject=XSS))
    assert "<script" not in mail.html
    assert "<b>" not in mail.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in mail.html
    assert Elements(mail.html).visible_text().count(XSS) >= 2  # preheader, title
    assert f"* {XSS} & <b>bold</b>" in mail.text
    assert "<mark" in mail.html
    assert "<mark" not in mail.text


def test_paper_links_and_labels(env: jinja2.Environment) -> None:
    view = view_of(stored(7))
    assert view.url == f"{BASE_URL}/papers/7"
    assert view.arxiv_url == "https://arxiv.org/abs/2411.00007"
    assert view.daily_url == "https://huggingface.co/papers/2411.00007"
    assert view.github_url == "https://github.com/lab/xray-seg"
    assert view.authors == "Ada Lovelace, Alan Turing"
    mail = render_digest(env, digest_of((view,)))
    hrefs = Elements(mail.html).hrefs()
    for url in (view.url, view.arxiv_url, view.daily_url, view.github_url):
        assert url in hrefs
    assert "Ada Lovelace, Alan Turing · 20 Nov 2026 · 7 upvotes" in mail.text


def test_a_paper_without_arxiv_id_or_repository_has_only_its_own_link(
    env: jinja2.Environment,
) -> None:
    paper = stored(3, arxiv_id=None, key="title:x", abstract="No code here. " * 30, upvotes=None)
    view = view_of(paper)
    assert (view.arxiv_url, view.daily_url, view.github_url) == (None, None, None)
    assert view.snippet_text.endswith("…")
    assert len(view.snippet_text) <= 281
    mail = render_digest(env, digest_of((view,)))
    papers = [h for h in Elements(mail.html).hrefs() if "arxiv" in h or "github" in h]
    assert papers == []
    assert "upvote" not in mail.text


def test_the_text_part_has_every_link_of_the_html_part(env: jinja2.Environment) -> None:
    views = tuple(view_of(stored(n)) for n in range(1, 4))
    mail = render_digest(env, digest_of(views, more_count=5))
    hrefs = set(Elements(mail.html).hrefs())
    assert f"{BASE_URL}/digests/2026-11-24?t=manage" in hrefs
    assert len(hrefs) == 3 * 3 + 1 + 5  # 3 x (page, arXiv, daily), one repo, 5 shell links
    for href in hrefs:
        assert href in mail.text, href


def test_lines_stay_under_the_smtp_limit(env: jinja2.Environment) -> None:
    long_title = "A " + "very " * 300 + "long title"
    views = (view_of(stored(1, title=long_title)), view_of(stored(2)))
    mail = render_digest(env, digest_of(views))
    assert max(len(line.encode()) for line in mail.text.splitlines()) <= 998
    prose = [line for line in mail.text.splitlines() if "://" not in line]
    assert max(len(line) for line in prose) <= 78  # wrapped


def test_a_long_list_is_cut_and_the_footer_survives(env: jinja2.Environment) -> None:
    views = tuple(view_of(stored(n)) for n in range(1, 201))
    full = render_digest(env, digest_of(views), max_bytes=10_000_000)
    assert len(full.html.encode()) > 90_000
    mail = render_digest(env, digest_of(views, more_count=3), max_bytes=90_000)
    size = len(mail.html.encode())
    assert 80_000 < size <= 90_000
    shown = mail.html.count('class="title-link"')
    assert 0 < shown < 200
    more = 200 - shown + 3
    assert f"{more} more papers matched" in Elements(mail.html).visible_text()
    assert f"{more} more papers matched" in mail.text
    assert mail.text.count("\n* ") == shown  # the text part shows the same papers
    assert f"{BASE_URL}/digests/2026-11-24?t=manage" in Elements(mail.html).hrefs()
    _footer_ok(mail.html, mail.text)


def test_the_cut_keeps_the_longest_prefix_that_fits(env: jinja2.Environment) -> None:
    views = tuple(view_of(stored(n)) for n in range(1, 41))
    limit = 40_000
    mail = render_digest(env, digest_of(views), max_bytes=limit)
    shown = mail.html.count('class="title-link"')
    one_more = render_digest(
        env,
        digest_of(views[: shown + 1], more_count=len(views) - shown - 1),
        max_bytes=10_000_000,
    )
    assert len(mail.html.encode()) <= limit < len(one_more.html.encode())


def test_a_shell_over_the_budget_is_refused(env: jinja2.Environment) -> None:
    view = digest_of((view_of(stored()),), postal_address="x" * 5_000)
    with pytest.raises(ValueError, match="max_bytes"):
        render_digest(env, view, max_bytes=4_000)


def test_a_digest_under_the_budget_is_not_cut(env: jinja2.Environment) -> None:
    views = tuple(view_of(stored(n)) for n in range(1, 21))
    mail = render_digest(env, digest_of(views))
    assert mail.html.count('class="title-link"') == 20
    assert "more paper" not in mail.text
    assert mail.subject == "3 papers for your alerts"
    _footer_ok(mail.html, mail.text)


def test_header_counts_and_days(env: jinja2.Environment) -> None:
    from datetime import date

    view = digest_of(
        (view_of(stored()),),
        days=(date(2026, 11, 18), date(2026, 11, 24)),
        new_count=1_204,
        seen_count=1,
        matched_count=1,
    )
    mail = render_digest(env, view)
    text = Elements(mail.html).visible_text()
    assert "Your papers for 18–24 November 2026" in text
    assert "1 paper matched your alerts, out of 1,204 new papers and 1 paper seen again" in text
    assert "1 paper matched your alerts, out of 1,204 new papers and 1 paper seen again" in (
        mail.text
    )


def test_trending_papers_carry_a_trending_chip(env: jinja2.Environment) -> None:
    view = paper_view(stored(), explanation=None, base_url=BASE_URL, trending=True)
    assert view.chips == ("trending",)
    mail = render_digest(env, digest_of((view,), matched_count=0))
    assert 'class="chip chip-trending"' in mail.html
    assert "here is what is trending" in mail.text
    assert "[trending]" in mail.text


def test_paper_blocks_are_cached_per_paper_chips_and_highlights(env: jinja2.Environment) -> None:
    paper = stored(9_001)  # no other test renders this paper
    render = env.get_template("email/_paper.html").render
    calls: list[object] = []

    def counting(*args: object, **kwargs: object) -> str:
        calls.append(kwargs.get("paper"))
        return render(*args, **kwargs)

    template = env.get_template("email/_paper.html")
    template.render = counting  # type: ignore[method-assign]
    try:
        same = view_of(paper)
        render_digest(env, digest_of((same,)))
        render_digest(env, digest_of((view_of(paper),)))
        assert len(calls) == 1  # a second subscriber with the same alerts reuses the block
        first = len(calls)
        render_digest(env, digest_of((view_of(paper, chips=("segmentation",)),)))
        assert len(calls) == first + 1  # other chips, another block
    finally:
        del template.render


def test_sample_digest_shows_chips_and_highlights(env: jinja2.Environment) -> None:
    from benchmarks.screenshot_email import ALERTS, load_sample, sample_digest

    view = sample_digest(load_sample(), shown=20)
    assert view.matched_count == 20
    assert view.new_count == 47
    assert view.seen_count == 25
    mail = render_digest(env, view)
    doc = Elements(mail.html)
    chips = re.findall(r'<span class="chip"[^>]*>([^<]*)</span>', mail.html)
    assert {html.unescape(chip) for chip in chips} == set(ALERTS)
    marked = {html.unescape(m) for m in re.findall(r"<mark[^>]*>([^<]*)</mark>", mail.html)}
    assert {"X-ray", "X-rays", "segmentation", "foundation models", "skin"} <= marked
    assert "MedGemma Technical Report" in doc.visible_text()
    assert "https://github.com/purrlab/chestxr-label-reliability" in doc.hrefs()
    assert "80 authors · 7 Jul 2025 · 2 upvotes" in mail.text
    assert 'style="background-color: #ffe58a' in mail.html  # marks styled inline

"""Pages: the home page with feed discovery, paper pages, health, and escaping."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy.engine import Engine

from digest import pipeline
from digest.config import Settings
from digest.pipeline import find_paper
from tests.conftest import NOW, SAMPLE_DUMPS
from tests.factories import Entry, abstract, api_item, json_dump, text_dump
from tests.feeds.support import ingest_days

pytestmark = pytest.mark.anyio


async def test_home_lists_the_feeds_for_discovery(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    discovery = re.findall(
        r'<link rel="alternate" type="([^"]+)"[^>]* href="([^"]+)">', response.text
    )
    assert discovery == [
        ("application/atom+xml", f"{settings.base_url}/feeds/new.atom"),
        ("application/rss+xml", f"{settings.base_url}/feeds/new.rss"),
    ]
    assert f'href="{settings.base_url}/feeds/new.rss"' in response.text


async def test_a_paper_page_by_id_key_or_arxiv_id(
    client: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    ingest_days(engine, settings, SAMPLE_DUMPS[:1])
    paper = find_paper(engine, "1")
    assert paper is not None
    page = await client.get("/papers/1")
    assert page.status_code == 200
    assert f'<link rel="canonical" href="{settings.base_url}/papers/1">' in page.text
    assert 'rel="alternate" type="application/atom+xml"' in page.text
    assert paper.abstract[:60].replace("'", "&#39;") in page.text  # the whole abstract
    assert (await client.get(f"/papers/{paper.key}")).text == page.text


async def test_a_paper_with_an_arxiv_id_links_out(
    client: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    summary = abstract("lesion segmentation") + " Code at https://github.com/acme/lesions."
    pipeline.ingest_bytes(
        engine,
        json_dump(api_item("2411.01234", "Lesion segmentation", summary, upvotes=7)),
        source="api.json",
        settings=settings,
        now=NOW,
    )
    for ref in ("1", "2411.01234", "arxiv:2411.01234"):
        page = await client.get(f"/papers/{ref}")
        assert page.status_code == 200, ref
        assert 'href="https://arxiv.org/abs/2411.01234"' in page.text
        assert 'href="https://huggingface.co/papers/2411.01234"' in page.text
        assert 'href="https://github.com/acme/lesions"' in page.text
        assert "Ada Lovelace, Alan Turing" in page.text
        assert "7 upvotes" in page.text


@pytest.mark.parametrize("ref", ["999999", "arxiv:0000.00000", "²", "9" * 40, "title:nothing"])
async def test_an_unknown_paper_is_a_404_page(
    client: httpx.AsyncClient, engine: Engine, settings: Settings, ref: str
) -> None:
    ingest_days(engine, settings, SAMPLE_DUMPS[:1])
    response = await client.get(f"/papers/{ref}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "Not found" in response.text


async def test_html_in_a_title_is_shown_as_text(
    client: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    title = "<script>alert('x')</script> Skin lesion <b>segmentation</b> für alle"
    pipeline.ingest_bytes(
        engine,
        text_dump(Entry(title=title, abstract=abstract("<img src=x onerror=alert(1)> skin"))),
        source="evil.txt",
        settings=settings,
        now=NOW,
    )
    page = await client.get("/papers/1")
    assert page.status_code == 200
    assert "<script>" not in page.text
    assert "<img" not in page.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Skin lesion" in page.text
    assert "für alle" in page.text


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.text == "ok\n"

"""One-click unsubscribe: GET changes nothing, POST suppresses at once, tokens are checked."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.engine import Engine

from digest import pipeline
from digest.config import Settings
from digest.models import SubscriberInfo
from digest.pipeline.access import revoke_tokens
from digest.pipeline.links import Links
from digest.store import subscribers
from digest.store.db import transaction
from digest.tokens import Purpose
from tests.conftest import NOW, all_rows
from tests.feeds.support import add_reader

pytestmark = pytest.mark.anyio
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def unsubscribe_path(settings: Settings, reader: SubscriberInfo) -> str:
    return Links.from_settings(settings).unsubscribe_url(reader).removeprefix(settings.base_url)


def status(engine: Engine) -> str:
    return pipeline.find_subscriber(engine, "reader@example.org").status


async def test_get_shows_a_button_and_changes_nothing(
    client: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    path = unsubscribe_path(settings, add_reader(engine, settings))
    before = all_rows(engine)
    response = await client.get(path)
    assert response.status_code == 200
    assert '<form method="post">' in response.text
    assert '<input type="hidden" name="List-Unsubscribe" value="One-Click">' in response.text
    assert "reader@example.org" in response.text
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-robots-tag"] == "noindex"
    assert "set-cookie" not in response.headers
    assert all_rows(engine) == before


async def test_one_click_post_unsubscribes_before_replying(
    client: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    path = unsubscribe_path(settings, add_reader(engine, settings))
    response = await client.post(path, data=ONE_CLICK)  # urlencoded, as RFC 8058 sends it
    assert response.status_code == 200
    assert not response.is_redirect
    assert "set-cookie" not in response.headers
    assert "Unsubscribed" in response.text
    assert status(engine) == "unsubscribed"
    again = await client.post(path, data=ONE_CLICK)
    assert again.status_code == 200
    assert status(engine) == "unsubscribed"
    page = await client.get(path)  # the link still works and says so; no button
    assert "gets no more digests" in page.text
    assert "<form" not in page.text


async def test_the_pages_button_and_a_multipart_post_work_too(
    client: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    path = unsubscribe_path(settings, add_reader(engine, settings))
    response = await client.post(path, files={"List-Unsubscribe": (None, "One-Click")})
    assert response.status_code == 200
    assert status(engine) == "unsubscribed"


async def test_a_bounced_address_stays_bounced(
    client: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    reader = add_reader(engine, settings)
    with transaction(engine) as session:
        subscribers.set_status(session, reader.id, status="bounced", now=NOW, reason="550")
    response = await client.post(unsubscribe_path(settings, reader), data=ONE_CLICK)
    assert response.status_code == 200
    assert status(engine) == "bounced"


async def test_bad_tokens_404_and_change_nothing(
    client: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    reader = add_reader(engine, settings)
    path = unsubscribe_path(settings, reader)
    feed = Links.from_settings(settings).token(Purpose.FEED, reader)
    before = all_rows(engine)
    for bad in (f"{path}x", f"{path[:-4]}", f"/unsubscribe/{feed}", "/unsubscribe/nonsense"):
        assert (await client.get(bad)).status_code == 404, bad
        response = await client.post(bad, data=ONE_CLICK)
        assert response.status_code == 404, bad
        assert response.headers["referrer-policy"] == "no-referrer"
    assert all_rows(engine) == before
    revoke_tokens(engine, reader.id)
    revoked = all_rows(engine)
    assert (await client.post(path, data=ONE_CLICK)).status_code == 404
    assert all_rows(engine) == revoked
    assert status(engine) == "active"


async def test_a_post_without_one_click_changes_nothing(
    client: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    path = unsubscribe_path(settings, add_reader(engine, settings))
    before = all_rows(engine)
    for body in ({"List-Unsubscribe": "Later"}, {}, {"other": "One-Click"}):
        response = await client.post(path, data=body)
        assert response.status_code == 400, body
        assert "List-Unsubscribe=One-Click" in response.text
    huge = await client.post(path, content=b"List-Unsubscribe=One-Click&" + b"x" * 20_000)
    assert huge.status_code == 400
    assert all_rows(engine) == before

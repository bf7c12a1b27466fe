"""A real feed reader's view: uvicorn on a loopback port, httpx honouring ETags, feedparser.

The server runs in a thread on a socket the test binds (a free port) and is stopped at the
end; its access log is captured to show that tokens never reach it.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator

import feedparser
import httpx
import pytest
import uvicorn
from sqlalchemy.engine import Engine

from digest.config import Settings
from digest.pipeline.links import Links
from digest.web import create_app
from tests.conftest import NOW, SAMPLE_DUMPS
from tests.feeds.support import add_reader, feed_token, ingest_days

STARTUP_SECONDS = 10.0


@pytest.fixture
def server(engine: Engine, settings: Settings) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1; yields its base URL."""
    app = create_app(settings, engine=engine, clock=lambda: NOW)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    # log_config=None: uvicorn leaves logging alone, so its records reach pytest's handler.
    config = uvicorn.Config(app, log_config=None, access_log=True, lifespan="off")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not instance.started:  # a start-up wait, not a timing assertion
        assert thread.is_alive(), "uvicorn stopped during start-up"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join(timeout=STARTUP_SECONDS)
        listener.close()
    assert not thread.is_alive()


def test_a_reader_fetches_twice_and_the_second_is_a_304(
    server: str, engine: Engine, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    ingest_days(engine, settings, SAMPLE_DUMPS[:2])
    reader = add_reader(engine, settings)
    token = feed_token(settings, reader)
    unsubscribe = Links.from_settings(settings).unsubscribe_url(reader)
    path = unsubscribe.removeprefix(settings.base_url)
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    with httpx.Client(base_url=server, timeout=STARTUP_SECONDS) as client:
        first = client.get(f"/feeds/private/{token}.atom")
        assert first.status_code == 200
        parsed = feedparser.parse(first.content)
        assert parsed.bozo == 0
        assert parsed.entries
        # What a reader stores and sends back.
        second = client.get(
            f"/feeds/private/{token}.atom",
            headers={
                "If-None-Match": first.headers["etag"],
                "If-Modified-Since": first.headers["last-modified"],
            },
        )
        assert second.status_code == 304
        assert second.content == b""
        # feedparser as the client, fetching by itself with the stored validators.
        fetched = feedparser.parse(
            f"{server}/feeds/private/{token}.atom",
            etag=first.headers["etag"],
            modified=first.headers["last-modified"],
        )
        assert fetched.status == 304
        assert fetched.entries == []
        public = client.get("/feeds/new.rss")
        assert feedparser.parse(public.content).bozo == 0
        assert client.get(path).status_code == 200
        assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    access = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert len(access) == 6
    assert all(token not in line and path not in line for line in access)
    assert any("/feeds/private/[redacted].atom" in line for line in access)
    assert any("POST /unsubscribe/[redacted]" in line for line in access)
    # Everything the service logged (the test's own httpx client logs its URLs: not ours).
    everything = "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.name.startswith(("uvicorn", "digest"))
    )
    assert token not in everything
    assert path.rsplit("/", 1)[1] not in everything

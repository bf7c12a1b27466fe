"""Tokens never reach the logs: the redaction filter on its own and on uvicorn's access log."""

from __future__ import annotations

import logging

import pytest

from digest.web.logs import RedactTokens, install_log_redaction, redact

TOKEN = "WzEsIjJiNDRiY2E3YzFjZWRmNzE4NzVhNWViZDg0ZmRiM2RiIl0.awTqkQ.6O4vSvmh4X5Zo9F_WElCcQDDbeM"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"GET /feeds/private/{TOKEN}.atom", "GET /feeds/private/[redacted].atom"),
        (f"/feeds/private/{TOKEN}.rss?x=1", "/feeds/private/[redacted].rss?x=1"),
        (f"/feeds/private/{TOKEN}.opml", "/feeds/private/[redacted].opml"),
        (f"/unsubscribe/{TOKEN}", "/unsubscribe/[redacted]"),
        (f'"POST /unsubscribe/{TOKEN} HTTP/1.1"', '"POST /unsubscribe/[redacted] HTTP/1.1"'),
        (f"/manage/{TOKEN}/digest/2026-11-24", "/manage/[redacted]/digest/2026-11-24"),
        (f"https://h/confirm/{TOKEN}#x", "https://h/confirm/[redacted]#x"),
        (f"/confirm/{TOKEN}.atomic", "/confirm/[redacted]"),
        ("/feeds/search.atom?q=unsubscribe", "/feeds/search.atom?q=unsubscribe"),
        ("/papers/arxiv:2411.01234", "/papers/arxiv:2411.01234"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_the_filter_redacts_uvicorn_style_arguments_and_messages() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/feeds/private/{TOKEN}.atom", "1.1", 200),
        None,
    )
    assert RedactTokens().filter(record) is True
    assert TOKEN not in record.getMessage()
    assert record.args == ("127.0.0.1:5000", "GET", "/feeds/private/[redacted].atom", "1.1", 200)
    message = logging.LogRecord(
        "digest.x", logging.INFO, __file__, 1, f"/unsubscribe/{TOKEN}", None, None
    )
    RedactTokens().filter(message)
    assert message.getMessage() == "/unsubscribe/[redacted]"


def test_installing_twice_adds_one_filter() -> None:
    install_log_redaction()
    install_log_redaction()
    for name in ("uvicorn.access", "uvicorn.error", "digest"):
        filters = logging.getLogger(name).filters
        assert sum(isinstance(f, RedactTokens) for f in filters) == 1

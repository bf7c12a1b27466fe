"""Fixtures for the delivery tests: message factories, the test SMTP server, a TLS certificate."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from digest.deliver.mailer import OutgoingMessage
from digest.deliver.message import build_message
from digest.render.view import RenderedMail
from tests.smtpserver import self_signed_tls, smtp_server  # noqa: F401  (a fixture)

DATE = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)

BuildMessage = Callable[..., OutgoingMessage]


def mail(
    subject: str = "Your digest: 3 new papers",
    html: str = "<html lang=en><body><p>Three papers.</p></body></html>",
    text: str = "Three papers.\n",
) -> RenderedMail:
    """A rendered mail with small defaults."""
    return RenderedMail(subject=subject, html=html, text=text)


def message_for(
    recipient: str = "reader@example.com",
    *,
    rendered: RenderedMail | None = None,
    key: int = 0,
    **overrides: Any,
) -> OutgoingMessage:
    """A built message with every header argument defaulted; any of them can be overridden."""
    arguments: dict[str, Any] = {
        "sender": "digest <digest@example.org>",
        "recipient": recipient,
        "message_id": f"<digest.{key}.7@example.org>",
        "date": DATE,
        "list_id": "digest.example.org",
        "unsubscribe_url": "https://example.org/unsubscribe/TOKEN123",
        "unsubscribe_mailto": "mailto:unsubscribe@example.org?subject=unsubscribe",
        "service_name": "digest",
        "key": key,
    }
    arguments.update(overrides)
    return build_message(rendered or mail(), **arguments)


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context with a self-signed certificate for 127.0.0.1, and the cert file."""
    return self_signed_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Every test server and SMTP worker thread is gone when a test ends."""
    yield
    leaked = [t.name for t in threading.enumerate() if t.name.startswith(("smtpserver-", "smtp-"))]
    assert leaked == []

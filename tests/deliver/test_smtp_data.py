"""SmtpMailer's DATA: dot-stuffing as smtplib does it, and the server gets the bytes back."""

from __future__ import annotations

import dataclasses
import smtplib
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.deliver.mailer import Status
from digest.deliver.smtp import SmtpMailer, dot_stuffed
from tests.deliver.conftest import message_for
from tests.smtpserver import SmtpServer

DOTTY = st.binary(max_size=300) | st.lists(
    st.sampled_from([b".", b"..", b"\r\n", b"\n", b"\r", b"a", b".\r\n", b"\r\n.\r\n"]),
    max_size=40,
).map(b"".join)


@settings(max_examples=500, deadline=None)
@given(data=DOTTY)
def test_dot_stuffing_gives_smtplibs_bytes(data: bytes) -> None:
    assert dot_stuffed(data) == smtplib._quote_periods(data)


@pytest.mark.smtp
@pytest.mark.parametrize(
    "body",
    [
        b".starts with a dot\r\n.\r\n..\r\nmiddle\r\n.end\r\n",
        b"no line end at the end\r\n.",
        b"\r\n.\r\n",
    ],
)
def test_the_server_receives_the_message_as_built(
    smtp_server: Callable[..., SmtpServer], body: bytes
) -> None:
    server = smtp_server()
    built = message_for("reader@example.com")
    message = dataclasses.replace(built, data=built.data + body)
    mailer = SmtpMailer(server.host, server.port, timeout=5.0, local_hostname="client.test")
    try:
        (outcome,) = mailer.send([message])
    finally:
        mailer.close()
    assert outcome.status is Status.SENT
    (received,) = server.messages
    expected = message.data if message.data.endswith(b"\r\n") else message.data + b"\r\n"
    assert received.data == expected

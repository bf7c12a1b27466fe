"""SmtpMailer against a real SMTP server (aiosmtpd on loopback), and the reply classification."""

from __future__ import annotations

import email
import email.policy
import ssl
from collections.abc import Callable
from pathlib import Path

import pytest

from digest.deliver.mailer import OutgoingMessage, Status
from digest.deliver.smtp import SmtpMailer, classify_reply
from tests.deliver.conftest import message_for
from tests.smtpserver import SmtpServer

StartServer = Callable[..., SmtpServer]


def batch(n: int, *, start: int = 0) -> list[OutgoingMessage]:
    return [message_for(f"reader{i}@example.com", key=i) for i in range(start, start + n)]


def mailer_for(server: SmtpServer, **options: object) -> SmtpMailer:
    options.setdefault("timeout", 5.0)
    options.setdefault("local_hostname", "client.test")
    return SmtpMailer(server.host, server.port, **options)  # type: ignore[arg-type]


# --- classification (no server) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "text", "stage", "status"),
    [
        (250, "2.0.0 OK", "data", Status.SENT),
        (251, "User not local; will forward", "rcpt", Status.SENT),
        (421, "4.3.2 Shutting down", "mail", Status.TEMPORARY),
        (450, "4.2.0 Mailbox busy", "rcpt", Status.TEMPORARY),
        (451, "4.7.1 Greylisted, try again", "rcpt", Status.TEMPORARY),
        (452, "4.5.3 Too many recipients", "rcpt", Status.TEMPORARY),
        (550, "5.1.1 No such user", "rcpt", Status.PERMANENT),
        (550, "No such user here", "rcpt", Status.PERMANENT),
        (552, "5.3.4 Message too big", "data", Status.PERMANENT),
        (550, "5.7.1 Rejected by policy", "rcpt", Status.POLICY),
        (554, "5.7.1 Message rejected as spam", "data", Status.POLICY),
        (550, " 5.7.26 Unauthenticated email is not accepted", "data", Status.POLICY),
        (553, "5.1.8 Sender address rejected", "mail", Status.POLICY),
        (554, "No SMTP service here", "connect", Status.POLICY),
        (535, "5.7.8 Authentication failed", "connect", Status.POLICY),
        (334, "odd", "rcpt", Status.TEMPORARY),
    ],
)
def test_replies_are_classified(code: int, text: str, stage: str, status: Status) -> None:
    assert classify_reply(code, text, stage=stage) is status


# --- a real server --------------------------------------------------------------------------


@pytest.mark.smtp
def test_fifty_messages_go_over_one_connection_as_built(smtp_server: StartServer) -> None:
    server = smtp_server()
    messages = batch(50)
    mailer = mailer_for(server, connections=1)
    outcomes = mailer.send(messages)
    mailer.close()

    assert [(o.key, o.status, o.code) for o in outcomes] == [
        (i, Status.SENT, 250) for i in range(50)
    ]
    assert server.connections == 1
    assert server.per_connection == {1: 50}
    assert [m.data for m in server.messages] == [m.data for m in messages]
    assert [(m.mail_from, m.rcpt_tos) for m in server.messages] == [
        ("digest@example.org", [f"reader{i}@example.com"]) for i in range(50)
    ]
    verbs = [verb for _, verb in server.commands]
    assert verbs.count("QUIT") == 1  # at close, not between messages
    assert verbs[-1] == "QUIT"
    parsed = email.message_from_bytes(server.messages[7].data, policy=email.policy.default)
    assert parsed["To"] == "reader7@example.com"


@pytest.mark.smtp
def test_the_connection_is_kept_between_send_calls(smtp_server: StartServer) -> None:
    server = smtp_server()
    mailer = mailer_for(server)
    first = mailer.send(batch(3))
    second = mailer.send(batch(3, start=3))
    mailer.close()
    assert {o.status for o in first + second} == {Status.SENT}
    assert server.connections == 1
    assert len(server.messages) == 6


@pytest.mark.smtp
def test_a_dropped_connection_is_reopened_and_the_message_offered_again(
    smtp_server: StartServer,
) -> None:
    server = smtp_server(disconnect_after=3)
    messages = batch(10)
    mailer = mailer_for(server)
    outcomes = mailer.send(messages)
    mailer.close()

    assert [o.status for o in outcomes] == [Status.SENT] * 10
    assert sorted(m.rcpt_tos[0] for m in server.messages) == sorted(m.recipient for m in messages)
    assert server.connections == 4
    assert server.per_connection == {1: 3, 2: 3, 3: 3, 4: 1}
    assert mailer.connections_opened == 4


@pytest.mark.smtp
def test_a_server_that_goes_away_leaves_the_rest_temporary(smtp_server: StartServer) -> None:
    server = smtp_server(stop_after=3)
    mailer = mailer_for(server)
    outcomes = mailer.send(batch(7))
    mailer.close()

    assert [o.status for o in outcomes] == [Status.SENT] * 3 + [Status.TEMPORARY] * 4
    assert len(server.messages) == 3
    assert "ConnectionRefusedError" in outcomes[3].detail  # the retry after the drop
    assert outcomes[4].detail.startswith("not offered:")


@pytest.mark.smtp
def test_a_451_is_temporary_and_the_next_send_succeeds(smtp_server: StartServer) -> None:
    server = smtp_server()
    server.answer("reader0@example.com", "451 4.3.0 Try again later", times=1)
    mailer = mailer_for(server)
    message = batch(1)

    first = mailer.send(message)
    second = mailer.send(message)
    mailer.close()

    assert (first[0].status, first[0].code) == (Status.TEMPORARY, 451)
    assert "4.3.0 Try again later" in first[0].detail
    assert (second[0].status, second[0].code) == (Status.SENT, 250)
    assert len(server.messages) == 1
    assert server.connections == 1
    verbs = [verb for _, verb in server.commands]
    assert verbs[:4] == ["MAIL", "RCPT", "RSET", "MAIL"]  # RSET after the refused transaction


@pytest.mark.smtp
def test_refusals_are_classified_and_the_connection_carries_on(smtp_server: StartServer) -> None:
    server = smtp_server()
    server.answer("reader1@example.com", "550 5.1.1 No such user")
    server.answer("reader2@example.com", "550 5.7.1 Rejected by policy")
    server.answer("reader3@example.com", "554 5.7.1 Message looks like spam", at="data")
    server.answer("reader4@example.com", "552 5.3.4 Message too big", at="data")
    mailer = mailer_for(server)
    outcomes = mailer.send(batch(6))
    mailer.close()

    assert [(o.status, o.code) for o in outcomes] == [
        (Status.SENT, 250),
        (Status.PERMANENT, 550),
        (Status.POLICY, 550),
        (Status.POLICY, 554),
        (Status.PERMANENT, 552),
        (Status.SENT, 250),
    ]
    assert outcomes[1].detail == "550 5.1.1 No such user"
    assert [m.rcpt_tos for m in server.messages] == [
        ["reader0@example.com"],
        ["reader5@example.com"],
    ]
    assert server.connections == 1
    assert [verb for _, verb in server.commands].count("RSET") == 4


@pytest.mark.smtp
def test_a_server_slower_than_the_timeout_is_temporary(smtp_server: StartServer) -> None:
    server = smtp_server(delay=1.0)
    mailer = mailer_for(server, timeout=0.2)
    outcomes = mailer.send(batch(3))
    mailer.close()

    assert [o.status for o in outcomes] == [Status.TEMPORARY] * 3
    assert "timed out" in outcomes[0].detail
    assert server.messages == []


@pytest.mark.smtp
def test_a_timeout_after_the_content_is_not_retried_at_once(smtp_server: StartServer) -> None:
    server = smtp_server()
    server.answer("reader1@example.com", at="data", delay=1.0)
    mailer = mailer_for(server, timeout=0.3)
    outcomes = mailer.send(batch(3))
    mailer.close()

    assert [o.status for o in outcomes] == [Status.SENT, Status.TEMPORARY, Status.SENT]
    assert "timed out" in outcomes[1].detail
    datas = [verb for _, verb in server.commands if verb == "DATA"]
    assert len(datas) == 3  # offered once each: the slow one was not sent twice
    assert server.connections == 2  # the timed-out connection was abandoned


@pytest.mark.smtp
def test_four_connections_share_the_work_and_keep_the_order(smtp_server: StartServer) -> None:
    server = smtp_server(delay=0.005)
    messages = batch(40)
    mailer = mailer_for(server, connections=4)
    outcomes = mailer.send(messages)
    mailer.close()

    assert [(o.key, o.status) for o in outcomes] == [(i, Status.SENT) for i in range(40)]
    assert server.connections == 4
    assert sorted(server.per_connection) == [1, 2, 3, 4]
    assert sum(server.per_connection.values()) == 40
    received = sorted(m.rcpt_tos[0] for m in server.messages)
    assert received == sorted(m.recipient for m in messages)  # each exactly once


@pytest.mark.smtp
def test_nothing_listening_is_temporary_for_every_message(smtp_server: StartServer) -> None:
    server = smtp_server()
    server.stop()
    outcomes = mailer_for(server, connections=2).send(batch(5))
    assert [o.status for o in outcomes] == [Status.TEMPORARY] * 5
    assert all(o.code is None for o in outcomes)


@pytest.mark.smtp
def test_auth_from_the_settings(smtp_server: StartServer) -> None:
    server = smtp_server(auth=("digest", "s3cret"))
    good = mailer_for(server, username="digest", password="s3cret")
    wrong = mailer_for(server, username="digest", password="wrong")
    none = mailer_for(server)

    sent = good.send(batch(2))
    refused = wrong.send(batch(2))
    anonymous = none.send(batch(1))
    for mailer in (good, wrong, none):
        mailer.close()

    assert [o.status for o in sent] == [Status.SENT, Status.SENT]
    assert [(o.status, o.code) for o in refused] == [(Status.POLICY, 535)] * 2
    assert [(o.status, o.code) for o in anonymous] == [(Status.POLICY, 530)]
    assert len(server.messages) == 2


@pytest.mark.smtp
def test_starttls(smtp_server: StartServer, tls_files: tuple[ssl.SSLContext, Path]) -> None:
    context, certificate = tls_files
    server = smtp_server(tls=context, certificate=certificate)
    mailer = mailer_for(server, security="starttls", ssl_context=server.client_context())
    outcomes = mailer.send(batch(2))
    mailer.close()
    assert [o.status for o in outcomes] == [Status.SENT, Status.SENT]
    assert all(m.tls for m in server.messages)


@pytest.mark.smtp
def test_implicit_tls(smtp_server: StartServer, tls_files: tuple[ssl.SSLContext, Path]) -> None:
    context, certificate = tls_files
    server = smtp_server(tls=context, implicit_tls=True, certificate=certificate)
    mailer = mailer_for(server, security="ssl", ssl_context=server.client_context())
    outcomes = mailer.send(batch(2))
    mailer.close()
    assert [o.status for o in outcomes] == [Status.SENT, Status.SENT]
    assert all(m.tls for m in server.messages)


@pytest.mark.smtp
def test_an_untrusted_certificate_is_a_policy_failure(
    smtp_server: StartServer, tls_files: tuple[ssl.SSLContext, Path]
) -> None:
    context, certificate = tls_files
    server = smtp_server(tls=context, certificate=certificate)
    mailer = mailer_for(server, security="starttls")  # the system's CAs do not know it
    outcomes = mailer.send(batch(2))
    assert [o.status for o in outcomes] == [Status.POLICY, Status.POLICY]
    assert "CERTIFICATE_VERIFY_FAILED" in outcomes[0].detail
    assert server.messages == []


@pytest.mark.smtp
def test_starttls_required_but_not_offered_is_a_policy_failure(smtp_server: StartServer) -> None:
    server = smtp_server()
    outcomes = mailer_for(server, security="starttls").send(batch(1))
    assert [o.status for o in outcomes] == [Status.POLICY]
    assert "STARTTLS" in outcomes[0].detail


@pytest.mark.smtp
def test_the_rate_cap_spaces_messages_across_calls(smtp_server: StartServer) -> None:
    server = smtp_server()
    clock = [100.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds

    mailer = mailer_for(server, rate=4.0, clock=lambda: clock[0], sleep=sleep)
    mailer.send(batch(3))
    mailer.send(batch(2, start=3))
    mailer.close()

    assert len(server.messages) == 5
    assert sleeps == pytest.approx([0.25] * 4)
    assert clock[0] == pytest.approx(101.0)

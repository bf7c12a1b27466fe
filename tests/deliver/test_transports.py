"""The Maildir and in-memory transports, and the factory that picks one from the settings."""

from __future__ import annotations

import email
import email.policy
import mailbox
from pathlib import Path

import pytest

from digest.config import load_settings
from digest.deliver.maildir import MaildirMailer
from digest.deliver.mailer import Mailer, Status
from digest.deliver.memory import MemoryMailer
from digest.deliver.smtp import SmtpMailer
from digest.deliver.transport import make_mailer
from tests.deliver.conftest import mail, message_for


def test_maildir_writes_one_file_per_message_with_the_bytes_as_built(tmp_path: Path) -> None:
    messages = [
        message_for(f"reader{i}@example.com", key=i, rendered=mail(subject=f"Digest n°{i} 🔥"))
        for i in range(3)
    ]
    mailer = MaildirMailer(tmp_path / "maildir")
    outcomes = mailer.send(messages)
    mailer.close()

    assert [(o.key, o.status) for o in outcomes] == [(i, Status.SENT) for i in range(3)]
    files = sorted((tmp_path / "maildir" / "new").iterdir())
    assert len(files) == 3
    assert list((tmp_path / "maildir" / "tmp").iterdir()) == []
    assert sorted(f.read_bytes() for f in files) == sorted(m.data for m in messages)
    maildir = mailbox.Maildir(tmp_path / "maildir", create=False)
    stored = {}
    for key in maildir.iterkeys():
        data = maildir.get_bytes(key)
        parsed = email.message_from_bytes(data, policy=email.policy.default)
        stored[parsed["Message-ID"]] = (data, parsed)
    for i, message in enumerate(messages):
        data, parsed = stored[message.message_id]
        assert data == message.data
        assert parsed["Subject"] == f"Digest n°{i} 🔥"
        assert parsed["To"] == f"reader{i}@example.com"
        text = next(iter(parsed.iter_parts()))
        assert text.get_content() == "Three papers.\r\n"


def test_maildir_reports_a_write_it_cannot_make_as_temporary(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the Maildir should be")
    outcomes = MaildirMailer(blocker).send([message_for(key=9)])
    assert [(o.key, o.status) for o in outcomes] == [(9, Status.TEMPORARY)]
    assert str(blocker) in outcomes[0].detail


def test_memory_mailer_records_and_accepts_by_default() -> None:
    mailer = MemoryMailer()
    messages = [message_for(f"r{i}@example.com", key=i) for i in range(3)]
    outcomes = mailer.send(messages)
    assert [(o.key, o.status, o.code) for o in outcomes] == [
        (i, Status.SENT, 250) for i in range(3)
    ]
    assert mailer.sent == messages
    assert mailer.attempts == messages
    assert mailer.sent_to("r1@example.com") == [messages[1]]
    mailer.close()
    assert mailer.closed


def test_memory_mailer_answers_scripted_outcomes_per_recipient() -> None:
    mailer = MemoryMailer()
    mailer.answer("flaky@example.com", Status.TEMPORARY, Status.TEMPORARY)
    mailer.answer("gone@example.com", then=Status.PERMANENT)
    mailer.answer("blocked@example.com", Status.POLICY)
    flaky, gone, blocked = (
        message_for(f"{name}@example.com", key=key)
        for key, name in enumerate(["flaky", "gone", "blocked"])
    )

    rounds = [mailer.send([flaky, gone, blocked]) for _ in range(3)]

    assert [[o.status for o in outcomes] for outcomes in rounds] == [
        [Status.TEMPORARY, Status.PERMANENT, Status.POLICY],
        [Status.TEMPORARY, Status.PERMANENT, Status.SENT],
        [Status.SENT, Status.PERMANENT, Status.SENT],
    ]
    assert [o.code for o in rounds[0]] == [451, 550, 550]
    assert "5.7.1" in rounds[0][2].detail
    assert mailer.sent == [blocked, flaky, blocked]
    assert len(mailer.attempts) == 9


@pytest.mark.parametrize(
    ("transport", "kind"),
    [("maildir", MaildirMailer), ("memory", MemoryMailer), ("smtp", SmtpMailer)],
)
def test_make_mailer_builds_the_transport_the_settings_name(
    tmp_path: Path, transport: str, kind: type
) -> None:
    settings = load_settings(
        mail_transport=transport,
        maildir_path=tmp_path / "maildir",
        smtp_host="127.0.0.1",
        smtp_port=2525,
        smtp_security="starttls",
        smtp_connections=3,
        send_rate=5.0,
    )
    mailer: Mailer = make_mailer(settings)
    assert isinstance(mailer, kind)
    if isinstance(mailer, SmtpMailer):
        assert (mailer.host, mailer.port, mailer.security) == ("127.0.0.1", 2525, "starttls")
    if isinstance(mailer, MaildirMailer):
        assert mailer.path == tmp_path / "maildir"
    mailer.close()

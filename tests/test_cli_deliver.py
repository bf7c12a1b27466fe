"""`digest send`, `digest send --dry-run`, `digest preview` and `digest deliveries list`."""

from __future__ import annotations

import json
import mailbox
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from digest.cli import app, main
from digest.cli import commands as _commands  # noqa: F401  (registers the commands)
from digest.store.db import make_engine
from tests.conftest import SAMPLE_DUMPS, all_rows
from tests.delivery_world import BASE_URL, POSTAL, parse

Run = Callable[..., Result]
ROW_KEYS = {
    "id",
    "subscriber_id",
    "edition_id",
    "edition_day",
    "state",
    "message_id",
    "attempts",
    "next_attempt_at",
    "sent_at",
    "last_error",
    "content",
}


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """`digest ARGS...` in-process on a SQLite file, mail into a Maildir, in the test's folder."""
    for name in list(os.environ):
        if name.startswith("DIGEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no config/digest.toml here: defaults and the environment
    monkeypatch.setenv("DIGEST_DATABASE_URL", f"sqlite:///{tmp_path / 'digest.db'}")
    monkeypatch.setenv("DIGEST_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DIGEST_MAILDIR_PATH", str(tmp_path / "maildir"))
    monkeypatch.setenv("DIGEST_POSTAL_ADDRESS", POSTAL)
    monkeypatch.setenv("DIGEST_BASE_URL", BASE_URL)
    monkeypatch.setenv("DIGEST_MAIL_FROM", "Paper Digest <digest@example.org>")
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, list(args))

    return run


@pytest.fixture
def readers(cli: Run) -> list[str]:
    """A day's dump ingested and three subscribers (one whose alert matches nothing)."""
    ok(cli("ingest", str(SAMPLE_DUMPS[0])))
    ok(cli("subscribers", "add", "ada@example.com", "-a", "segmentation"))
    ok(cli("subscribers", "add", "ada@example.org", "-a", "MRI"))  # same name, other domain
    ok(cli("subscribers", "add", "zed@example.com", "-a", "zebrafish", "--no-trending"))
    return ["ada@example.com", "ada@example.org"]


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def run_main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """The real entry point (errors mapped to exit codes); returns the exit code."""
    monkeypatch.setattr(sys, "argv", ["digest", *args])
    with pytest.raises(SystemExit) as info:
        main()
    assert isinstance(info.value.code, int)
    return info.value.code


def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'digest.db'}"


def test_send_plans_sends_once_and_lists_the_ledger(
    cli: Run, readers: list[str], tmp_path: Path
) -> None:
    first = ok(cli("send", "--all-hours"))
    lines = first.stdout.splitlines()
    assert lines[0].endswith("planned 2, nothing to send 1, not due yet 0, already planned 0")
    assert lines[1] == "sent 2, retrying later 0, failed 0, bounced 0, suppressed 0"
    again = ok(cli("send", "--all-hours"))
    assert again.stdout.splitlines()[0].endswith(
        "planned 0, nothing to send 0, not due yet 0, already planned 3"
    )
    assert again.stdout.splitlines()[1].startswith("sent 0,")

    delivered = mailbox.Maildir(tmp_path / "maildir", create=False)
    recipients = sorted(str(message["To"]) for message in delivered)
    assert recipients == readers

    listed = ok(cli("deliveries", "list"))
    assert listed.stdout.count(" sent ") == 2
    assert " skipped " in listed.stdout
    assert "sent: 2, skipped: 1" in listed.stdout
    rows = json.loads(ok(cli("deliveries", "list", "--json")).stdout)
    assert len(rows) == 3
    assert all(set(row) == ROW_KEYS for row in rows)
    assert sorted(row["state"] for row in rows) == ["sent", "sent", "skipped"]
    sent = json.loads(ok(cli("deliveries", "list", "--state", "sent", "--json")).stdout)
    assert {row["message_id"] for row in sent} == {
        str(message["Message-ID"]) for message in delivered
    }


def test_send_without_a_postal_address_is_a_config_error(
    cli: Run,
    readers: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("DIGEST_POSTAL_ADDRESS", "")
    capsys.readouterr()
    assert run_main(monkeypatch, "send", "--all-hours") == 3
    err = capsys.readouterr().err
    assert err.startswith("config error: postal_address is empty")
    assert err.count("\n") == 1  # one line
    assert ok(cli("deliveries", "list", "--json")).stdout.strip() == "[]"
    assert not (tmp_path / "maildir").exists()


def test_a_dry_run_renders_into_a_folder_and_changes_nothing(
    cli: Run, readers: list[str], tmp_path: Path
) -> None:
    engine = make_engine(database(tmp_path))
    before = all_rows(engine)
    out = tmp_path / "dry"
    result = ok(cli("send", "--dry-run", "--all-hours", "--out", str(out)))
    assert result.stdout.strip() == f"dry run: 2 digest(s) rendered into {out}"
    assert sorted(path.name for path in out.iterdir()) == [
        "ada@example.com.eml",
        "ada@example.com.html",
        "ada@example.org.eml",
        "ada@example.org.html",
    ]
    for address in readers:
        message = parse((out / f"{address}.eml").read_bytes()).message
        assert message["To"] == address
        html = (out / f"{address}.html").read_text(encoding="utf-8")
        assert html.lstrip().lower().startswith("<!doctype html")
        assert POSTAL in html
    assert all_rows(engine) == before
    assert not (tmp_path / "maildir").exists()
    engine.dispose()


def test_preview_writes_a_complete_message(
    cli: Run, readers: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(database(tmp_path))
    before = all_rows(engine)
    target = tmp_path / "previews" / "ada.eml"
    written = ok(cli("preview", "ADA@example.com", "--out", str(target)))
    assert written.stdout.startswith(f"wrote {target} (")
    got = parse(target.read_bytes())
    message = got.message
    for name in ("From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe"):
        assert len(message.get_all(name) or []) == 1, name
    assert message["To"] == "ada@example.com"
    assert message["Message-ID"].startswith("<digest.")
    assert [part.get_content_type() for part in message.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    assert "segmentation" in got.text.lower()
    assert f"{BASE_URL}/unsubscribe/" in got.html

    to_stdout = ok(cli("preview", "ada@example.com"))
    assert parse(to_stdout.stdout_bytes).message["To"] == "ada@example.com"
    assert all_rows(engine) == before  # a preview sends nothing and records nothing
    assert run_main(monkeypatch, "preview", "nobody@example.com") == 4
    engine.dispose()

"""`digest subscribers ...` and `digest alerts ...`: output, JSON, refusals and exit codes."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from typer.testing import CliRunner, Result

from digest.cli import app, main
from digest.cli import commands as _commands  # noqa: F401  (registers the commands)
from digest.store.db import make_engine

Run = Callable[..., Result]
SUBSCRIBER_KEYS = {
    "id",
    "email",
    "status",
    "timezone",
    "send_hour",
    "frequency",
    "max_papers",
    "include_trending",
    "created_at",
    "confirmed_at",
    "alerts",
}


def _cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run `digest ARGS...` in-process against this database."""
    for name in list(os.environ):
        if name.startswith("DIGEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no config/digest.toml here: defaults and the environment
    monkeypatch.setenv("DIGEST_DATABASE_URL", database_url)
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, list(args))

    return run


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """The command line on a fresh SQLite file in the test's folder."""
    return _cli(f"sqlite:///{tmp_path / 'digest.db'}", tmp_path, monkeypatch)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_database_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The test runs twice: with a SQLite file and with a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'digest.db'}"
        return
    url: URL = request.getfixturevalue("postgres_schema_url")
    yield url.render_as_string(hide_password=False)


def _ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def _json(result: Result) -> object:
    return json.loads(_ok(result).stdout)


def _main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """Run the real entry point (with its error-to-exit-code mapping); returns the exit code."""
    monkeypatch.setattr(sys, "argv", ["digest", *args])
    with pytest.raises(SystemExit) as info:
        main()
    code = info.value.code
    assert isinstance(code, int)
    return code


def _emails(cli: Run, *args: str) -> list[str]:
    rows = _json(cli("subscribers", "list", "--json", *args))
    assert isinstance(rows, list)
    return [row["email"] for row in rows]


def _alerts(cli: Run, email: str) -> list[str]:
    alerts = _json(cli("alerts", "list", email, "--json"))
    assert isinstance(alerts, list)
    return [alert["query"] for alert in alerts]


def test_the_life_of_a_subscriber(
    any_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = _cli(any_database_url, tmp_path, monkeypatch)
    added = _ok(
        cli("subscribers", "add", " Ada@Example.COM ", "-a", "skin lesion", "--alert", "SAM")
    )
    assert added.stdout == "added ada@example.com (active) with 2 alert(s)\n"

    shown = _json(cli("subscribers", "show", "ADA@example.com", "--json"))
    assert isinstance(shown, dict)
    assert set(shown) == SUBSCRIBER_KEYS  # the token nonce stays out of the output
    assert {k: shown[k] for k in ("email", "status", "timezone", "send_hour", "frequency")} == {
        "email": "ada@example.com",
        "status": "active",
        "timezone": "UTC",
        "send_hour": 7,
        "frequency": "daily",
    }
    assert (shown["max_papers"], shown["include_trending"]) == (20, True)
    assert shown["created_at"] == shown["confirmed_at"]
    assert [alert["query"] for alert in shown["alerts"]] == ["skin lesion", "SAM"]
    assert _json(cli("subscribers", "list", "--json")) == [shown]

    _ok(cli("alerts", "add", "ada@example.com", "x-ray"))
    _ok(cli("alerts", "add", "ada@example.com", "x-ray"))  # a repeat: still three
    _ok(cli("alerts", "remove", "ada@example.com", "SAM"))
    assert _alerts(cli, "ada@example.com") == ["skin lesion", "x-ray"]

    listed = _ok(cli("alerts", "list", "ada@example.com"))
    assert "ada@example.com  status=active  daily at 7:00 UTC" in listed.stdout
    assert "skin lesion" in listed.stdout
    assert "x-ray" in listed.stdout

    assert _ok(cli("subscribers", "remove", "ADA@example.com")).stdout == (
        "removed ada@example.com\n"
    )
    assert _main(monkeypatch, "subscribers", "show", "ada@example.com") == 4
    assert _json(cli("subscribers", "list", "--json")) == []
    engine = make_engine(any_database_url)
    try:
        with engine.connect() as connection:  # no orphaned alerts left behind
            assert connection.execute(text("SELECT count(*) FROM alerts")).scalar_one() == 0
    finally:
        engine.dispose()


def test_add_with_every_option(cli: Run) -> None:
    _ok(
        cli(
            "subscribers",
            "add",
            "bob@example.org",
            "--timezone",
            "America/New_York",
            "--send-hour",
            "18",
            "--frequency",
            "weekly",
            "--max-papers",
            "5",
            "--no-trending",
            "--pending",
        )
    )
    shown = _json(cli("subscribers", "show", "bob@example.org", "--json"))
    assert isinstance(shown, dict)
    assert [shown[k] for k in ("status", "confirmed_at", "timezone", "send_hour")] == [
        "pending",
        None,
        "America/New_York",
        18,
    ]
    assert [shown[k] for k in ("frequency", "max_papers", "include_trending", "alerts")] == [
        "weekly",
        5,
        False,
        [],
    ]
    assert _emails(cli, "--status", "pending") == ["bob@example.org"]
    assert _emails(cli, "--status", "active") == []

    assert _ok(cli("subscribers", "list", "--status", "active")).stdout == "no subscribers\n"
    # One line per subscriber, the address whole however narrow the terminal.
    long = "a-rather-long-address.for-testing@some-university.example.edu"
    _ok(cli("subscribers", "add", long, "-a", "graphs", "--timezone", "America/Argentina/Salta"))
    lines = _ok(cli("subscribers", "list")).stdout.splitlines()
    assert [" ".join(line.split()) for line in lines] == [
        "id email status frequency hour tz max alerts",
        "1 bob@example.org pending weekly 18 America/New_York 5 0",
        f"2 {long} active daily 7 America/Argentina/Salta 20 1",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ada@example.com"], "error: email: ada@example.com is already subscribed"),
        (["a@b.c\r\nBcc: x@y.z"], "error: email: line breaks are not allowed in an address"),
        (["no-at-sign"], "error: email: An email address must have an @-sign."),
        (
            ["bob@example.com", "--alert", "graphs", "--alert", 'skin "lesion'],
            "error: unbalanced quote: a phrase is not closed at character 6",
        ),
        (
            ["bob@example.com", "--alert", "-sample"],
            "error: the query only excludes words; add at least one word to look for",
        ),
        (
            ["bob@example.com", "--timezone", "Mars/Olympus"],
            "error: timezone: unknown time zone 'Mars/Olympus'",
        ),
        (
            ["bob@example.com", "--send-hour", "24"],
            "error: send_hour: must be an hour from 0 to 23",
        ),
        (["bob@example.com", "--frequency", "hourly"], "error: frequency: must be daily or weekly"),
        (["bob@example.com", "--max-papers", "0"], "error: max_papers: must be from 1 to 200"),
    ],
)
def test_refused_adds_exit_1_with_one_line_and_store_nothing(
    cli: Run,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    _ok(cli("subscribers", "add", "ada@example.com", "--alert", "graphs"))

    assert _main(monkeypatch, "subscribers", "add", *args) == 1

    assert capsys.readouterr().err == message + "\n"
    assert _emails(cli) == ["ada@example.com"]
    assert _alerts(cli, "ada@example.com") == ["graphs"]


def test_alert_errors_and_exit_codes(
    cli: Run, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DIGEST_MAX_ALERTS_PER_SUBSCRIBER", "2")
    _ok(cli("subscribers", "add", "ada@example.com", "--alert", "graphs", "--alert", "x-ray"))

    assert _main(monkeypatch, "alerts", "add", "ada@example.com", "melanoma") == 1
    assert capsys.readouterr().err == "error: alerts: at most 2 alerts\n"
    assert _main(monkeypatch, "alerts", "add", "ada@example.com", "graphs") == 0  # a repeat
    capsys.readouterr()
    assert _main(monkeypatch, "alerts", "remove", "ada@example.com", "melanoma") == 4
    assert capsys.readouterr().err == "not found: ada@example.com has no alert 'melanoma'\n"
    assert _main(monkeypatch, "alerts", "add", "nobody@example.com", "graphs") == 4
    assert capsys.readouterr().err == "not found: no subscriber nobody@example.com\n"
    assert _main(monkeypatch, "alerts", "list", "nobody@example.com") == 4
    assert _main(monkeypatch, "subscribers", "remove", "nobody@example.com") == 4
    capsys.readouterr()

    assert _main(monkeypatch, "alerts", "remove", "ada@example.com", "graphs") == 0
    assert _main(monkeypatch, "alerts", "add", "ada@example.com", "title:") == 1
    assert capsys.readouterr().err.endswith("error: nothing after 'title:' at character 1\n")
    assert _alerts(cli, "ada@example.com") == ["x-ray"]


def test_set_changes_only_what_is_given(
    cli: Run, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _ok(cli("subscribers", "add", "ada@example.com", "--timezone", "Asia/Tokyo", "-a", "graphs"))

    changed = _ok(
        cli("subscribers", "set", "ADA@example.com", "--frequency", "weekly", "--no-trending")
    )
    assert changed.stdout.splitlines()[0] == (
        "ada@example.com  status=active  weekly at 7:00 Asia/Tokyo  max_papers=20  trending=False"
    )
    _ok(cli("subscribers", "set", "ada@example.com", "--send-hour", "22", "--max-papers", "50"))
    shown = _json(cli("subscribers", "show", "ada@example.com", "--json"))
    assert isinstance(shown, dict)
    assert [shown[k] for k in ("timezone", "send_hour", "frequency", "max_papers")] == [
        "Asia/Tokyo",
        22,
        "weekly",
        50,
    ]
    assert shown["include_trending"] is False
    assert [alert["query"] for alert in shown["alerts"]] == ["graphs"]

    nothing = cli("subscribers", "set", "ada@example.com")
    assert nothing.exit_code == 2
    assert "give at least one of" in nothing.stderr
    assert _main(monkeypatch, "subscribers", "set", "ada@example.com", "--timezone", "America") == 1
    assert capsys.readouterr().err == "error: timezone: unknown time zone 'America'\n"
    assert _main(monkeypatch, "subscribers", "set", "nobody@example.com", "--send-hour", "3") == 4
    assert _json(cli("subscribers", "show", "ada@example.com", "--json")) == shown


def test_an_unknown_status_is_refused(
    cli: Run, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _main(monkeypatch, "subscribers", "list", "--status", "activ") == 1
    assert capsys.readouterr().err == (
        "error: status: must be one of pending, active, unsubscribed, bounced, complained\n"
    )


def test_addresses_and_alerts_are_printed_as_written(cli: Run) -> None:
    # Rich would read `[b]` as markup and drop it; the output must show what is stored.
    _ok(cli("subscribers", "add", "ada@example.com", "--alert", "[b]old OR title:[x]"))
    shown = _ok(cli("subscribers", "show", "ada@example.com"))
    assert "[b]old OR title:[x]" in shown.stdout

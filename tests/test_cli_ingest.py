"""The command line: init, ingest (table and --json), papers list/show, stats, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from digest.cli import app, main
from digest.cli import commands as _commands  # noqa: F401  (registers the commands)
from tests.conftest import DUMPS, SAMPLE_DUMPS
from tests.factories import Entry, abstract, text_dump

DIGEST = Path(sys.executable).with_name("digest")
ROW_KEYS = {"file", "status", "entries", "new", "known", "warnings", "error"}

Run = Callable[..., Result]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run `digest ARGS...` in-process against a fresh SQLite file in the test's folder."""
    for name in list(os.environ):
        if name.startswith("DIGEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no config/digest.toml here: defaults and the environment
    monkeypatch.setenv("DIGEST_DATABASE_URL", f"sqlite:///{tmp_path / 'digest.db'}")
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, list(args))

    return run


def _json(result: Result) -> object:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return json.loads(result.stdout)


def _main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """Run the real entry point (with its error-to-exit-code mapping); returns the exit code."""
    monkeypatch.setattr(sys, "argv", ["digest", *args])
    with pytest.raises(SystemExit) as info:
        main()
    code = info.value.code
    assert isinstance(code, int)
    return code


def test_init_creates_an_empty_database(cli: Run, tmp_path: Path) -> None:
    result = cli("init")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"database ready: sqlite:///{tmp_path / 'digest.db'}\n"
    assert (tmp_path / "digest.db").is_file()
    assert _json(cli("stats", "--json")) == {
        "papers": 0,
        "listings": 0,
        "editions": 0,
        "sightings": 0,
    }


def test_ingest_a_folder_then_a_file_again(cli: Run) -> None:
    result = cli("ingest", "--json", str(DUMPS))
    assert result.exit_code == 0, result.output
    rows = _json(result)
    assert isinstance(rows, list)
    assert all(set(row) == ROW_KEYS for row in rows)
    assert [row["file"] for row in rows] == [str(path) for path in SAMPLE_DUMPS]
    assert [row["status"] for row in rows] == ["ingested"] * 4
    assert [row["entries"] for row in rows] == [89, 72, 79, 144]
    assert [row["new"] for row in rows] == [89, 47, 55, 122]
    assert [row["known"] for row in rows] == [0, 25, 24, 22]
    assert all(row["warnings"] == [] and row["error"] is None for row in rows)

    again = cli("ingest", "--json", str(SAMPLE_DUMPS[2]))
    assert again.exit_code == 0, again.output  # nothing new is not an error
    [row] = _json(again)  # type: ignore[misc]
    assert (row["status"], row["new"], row["known"], row["error"]) == ("skipped", 0, 79, None)
    assert row["warnings"] == [f"already ingested as listing 3 ({SAMPLE_DUMPS[2]})"]

    assert _json(cli("stats", "--json")) == {
        "papers": 313,
        "listings": 4,
        "editions": 1,
        "sightings": 89 + 72 + 79 + 144,
    }


def test_rejected_files_exit_non_zero_with_one_line_each(cli: Run, tmp_path: Path) -> None:
    # A deep folder and a name with brackets: the line must neither wrap nor eat "markup".
    folder = tmp_path / "a-rather-long-folder-name-for-incoming-dumps" / "from-the-browser"
    folder.mkdir(parents=True)
    empty = folder / "[draft] empty.txt"
    empty.write_bytes(b"")
    binary = folder / "figure.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    good = folder / "good.txt"
    good.write_bytes(SAMPLE_DUMPS[0].read_bytes())

    result = cli("ingest", "--json", str(empty), str(good), str(binary))

    assert result.exit_code == 1
    rows = _json(result)
    assert isinstance(rows, list)
    assert [(row["status"], row["new"]) for row in rows] == [
        ("rejected", 0),
        ("ingested", 89),
        ("rejected", 0),
    ]
    rejected = [line for line in result.stderr.splitlines() if line.startswith("rejected ")]
    assert rejected == [
        f"rejected {empty}: empty file",
        f"rejected {binary}: contains NUL bytes: binary data, not a text listing",
    ]
    assert rows[0]["error"] == "empty file"


def test_table_output_prints_names_as_written(cli: Run, tmp_path: Path) -> None:
    (tmp_path / "[b]old.txt").write_bytes(b"")
    result = cli("ingest", str(tmp_path / "[b]old.txt"))
    assert result.exit_code == 1
    assert "[b]old.txt" in result.stdout
    assert "empty file" in result.stdout


def test_usage_errors_exit_2(cli: Run, tmp_path: Path) -> None:
    assert cli("ingest").exit_code == 2
    both = cli("ingest", str(SAMPLE_DUMPS[0]), "--inbox", str(tmp_path))
    assert both.exit_code == 2
    assert "not both" in both.stderr


def test_papers_list_and_show(cli: Run, tmp_path: Path) -> None:
    marked = Entry("[Re] Sparse Attention [/math] for Long Documents", abstract("attention [x]"))
    dump = tmp_path / "dump.txt"
    dump.write_bytes(text_dump(marked, Entry("Graph Networks", abstract("graphs"))))
    assert cli("ingest", str(dump)).exit_code == 0

    listed = _json(cli("papers", "list", "--json", "--limit", "1"))
    assert isinstance(listed, list)
    assert [paper["title"] for paper in listed] == ["Graph Networks"]

    by_id = _json(cli("papers", "show", "1", "--json"))
    by_key = _json(
        cli("papers", "show", "title:re sparse attention math for long documents", "--json")
    )
    assert isinstance(by_id, dict)
    assert by_id["key"] == "title:re sparse attention math for long documents"
    assert by_id["sightings"] == 1
    assert by_key == by_id

    text = cli("papers", "show", "1")
    assert text.exit_code == 0, text.output
    assert text.stdout.startswith("[Re] Sparse Attention [/math] for Long Documents\n")
    assert "attention [x]" in text.stdout

    table = cli("papers", "list")
    assert table.exit_code == 0, table.output
    assert "[Re]" in table.stdout


def test_exit_codes_of_the_entry_point(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _main(monkeypatch, "init") == 0
    assert _main(monkeypatch, "papers", "show", "nope") == 4
    assert capsys.readouterr().err == "not found: no paper 'nope'\n"

    assert _main(monkeypatch, "--config", "absent.toml", "stats") == 3
    assert capsys.readouterr().err == "config error: absent.toml: config file not found\n"

    (tmp_path / "bad.toml").write_text('timezone = "Mars/Olympus"\n')
    assert _main(monkeypatch, "-c", "bad.toml", "stats") == 3
    err = capsys.readouterr().err
    assert err.startswith("config error: bad.toml: timezone:")
    assert "Mars/Olympus" in err

    monkeypatch.setenv("DIGEST_DATABASE_URL", "sqlite:///" + str(tmp_path / "a-file" / "x.db"))
    (tmp_path / "a-file").write_text("a file where a folder should be")
    assert _main(monkeypatch, "stats") == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot open the database")
    assert "File exists" in err
    assert "Traceback" not in err


def _subprocess(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    return subprocess.run(
        [str(DIGEST), *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_installed_command_ingests_into_a_sqlite_file(tmp_path: Path) -> None:
    env = {"DIGEST_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'digest.db'}"}
    (tmp_path / "bad.txt").write_text("just a line of text\n")

    run = _subprocess(
        "ingest", "--json", str(DUMPS), str(tmp_path / "bad.txt"), cwd=tmp_path, env=env
    )

    assert run.returncode == 1, run.stderr
    rows = json.loads(run.stdout)
    assert [row["new"] for row in rows] == [89, 47, 55, 122, 0]
    assert [line for line in run.stderr.splitlines() if line.startswith("rejected")] == [
        f"rejected {tmp_path / 'bad.txt'}: {rows[4]['error']}"
    ]
    stats = _subprocess("stats", "--json", cwd=tmp_path, env=env)
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["papers"] == 313


def test_the_installed_command_maps_a_bad_config_to_exit_3(tmp_path: Path) -> None:
    (tmp_path / "digest.toml").write_text("max_dump_bytes = -1\n")
    run = _subprocess("-c", "digest.toml", "stats", cwd=tmp_path, env={})
    assert run.returncode == 3
    assert run.stdout == ""
    assert run.stderr.startswith("config error: digest.toml: max_dump_bytes:")
    assert "Traceback" not in run.stderr


def test_a_long_config_error_is_still_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "configuration-files-for-the-digest-service-on-this-machine"
    folder.mkdir()
    (folder / "digest.toml").write_text('database_url = "mysql://somewhere"\n')
    run = _subprocess("-c", str(folder / "digest.toml"), "stats", cwd=tmp_path, env={})
    assert run.returncode == 3
    assert len(run.stderr.splitlines()) == 1, run.stderr

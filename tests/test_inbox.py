"""The inbox: files move to done/ or rejected/ (with a .reason), and nothing is ever lost."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from digest.cli import app
from digest.cli import commands as _commands  # noqa: F401  (registers the commands)
from digest.config import Settings
from digest.pipeline import gather_stats, ingest_inbox, ingest_paths
from digest.sources import move_done, move_rejected
from tests.conftest import SAMPLE_DUMPS, all_rows

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))


def _files(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, by path relative to it."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_mixed_batch_moves_good_to_done_and_bad_to_rejected_with_a_reason(
    any_engine: Engine, settings: Settings, now: datetime, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    good_a, good_b = SAMPLE_DUMPS[0].read_bytes(), SAMPLE_DUMPS[1].read_bytes()
    (inbox / "1-good.txt").write_bytes(good_a)
    (inbox / "2-bad.png").write_bytes(PNG)
    (inbox / "3-good.txt").write_bytes(good_b)

    results = ingest_inbox(any_engine, inbox, settings=settings, now=now)

    assert [(Path(r.file).name, r.status, r.new) for r in results] == [
        ("1-good.txt", "ingested", 89),
        ("2-bad.png", "rejected", 0),
        ("3-good.txt", "ingested", 47),
    ]
    assert _files(inbox) == {
        "done/1-good.txt": good_a,
        "done/3-good.txt": good_b,
        "rejected/2-bad.png": PNG,
        "rejected/2-bad.png.reason": (f"{now.isoformat()} {results[1].error}\n".encode()),
    }
    assert results[1].error is not None
    assert "binary" in results[1].error
    assert gather_stats(any_engine).papers == 136


def test_bad_file_in_the_inbox_changes_nothing_in_the_database(
    engine: Engine, settings: Settings, now: datetime, tmp_path: Path
) -> None:
    ingest_paths(engine, [SAMPLE_DUMPS[0]], settings=settings, now=now)
    before = all_rows(engine)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "notes.json").write_bytes(b'{"papers": [')

    [result] = ingest_inbox(engine, inbox, settings=settings, now=now)

    assert result.status == "rejected"
    reason = (inbox / "rejected" / "notes.json.reason").read_text()
    assert "not valid JSON" in reason
    assert all_rows(engine) == before


def test_already_ingested_file_moves_to_done(
    engine: Engine, settings: Settings, now: datetime, tmp_path: Path
) -> None:
    ingest_paths(engine, [SAMPLE_DUMPS[0]], settings=settings, now=now)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "again.txt").write_bytes(SAMPLE_DUMPS[0].read_bytes())

    [result] = ingest_inbox(engine, inbox, settings=settings, now=now)

    assert result.status == "skipped"
    assert sorted(_files(inbox)) == ["done/again.txt"]


@pytest.mark.parametrize("content", [SAMPLE_DUMPS[0].read_bytes(), PNG], ids=["good", "bad"])
def test_same_name_arriving_again_never_overwrites(
    engine: Engine, settings: Settings, now: datetime, tmp_path: Path, content: bytes
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    arrivals = [content + b"\n" * n for n in range(4)]  # four versions, one name, one clock
    for data in arrivals:
        (inbox / "dump.txt").write_bytes(data)
        ingest_inbox(engine, inbox, settings=settings, now=now)

    kept = {name: data for name, data in _files(inbox).items() if not name.endswith(".reason")}
    assert sorted(kept.values()) == sorted(arrivals)
    assert "dump.txt" not in kept  # the inbox itself is empty
    reasons = [name for name in _files(inbox) if name.endswith(".reason")]
    assert len(reasons) == (4 if content == PNG else 0)
    assert all(name.removesuffix(".reason") in kept for name in reasons)


def test_a_left_over_reason_file_is_not_overwritten(tmp_path: Path, now: datetime) -> None:
    # Someone moved rejected/x.txt back to the inbox to retry it; its old .reason stays.
    rejected = tmp_path / "rejected"
    rejected.mkdir()
    (rejected / "x.txt.reason").write_text("first reason\n")
    (tmp_path / "x.txt").write_text("still bad")

    target = move_rejected(tmp_path / "x.txt", reason="second reason", now=now)

    assert target != rejected / "x.txt"
    assert (rejected / "x.txt.reason").read_text() == "first reason\n"
    assert target.with_name(target.name + ".reason").read_text().endswith("second reason\n")


def test_move_done_keeps_the_suffix_of_a_renamed_file(tmp_path: Path, now: datetime) -> None:
    (tmp_path / "done").mkdir()
    (tmp_path / "done" / "a.json").write_text("first")
    (tmp_path / "a.json").write_text("second")
    target = move_done(tmp_path / "a.json", now=now)
    assert target.parent == tmp_path / "done"
    assert target.suffix == ".json"
    assert target.read_text() == "second"


def test_inbox_ignores_hidden_files_reason_files_and_its_own_folders(
    engine: Engine, settings: Settings, now: datetime, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "done").mkdir(parents=True)
    (inbox / "done" / "old.txt").write_bytes(SAMPLE_DUMPS[1].read_bytes())
    (inbox / ".partial.txt").write_bytes(b"being copied")
    (inbox / "dump.txt").write_bytes(SAMPLE_DUMPS[0].read_bytes())

    results = ingest_inbox(engine, inbox, settings=settings, now=now)

    assert [Path(r.file).name for r in results] == ["dump.txt"]
    assert sorted(_files(inbox)) == [".partial.txt", "done/dump.txt", "done/old.txt"]


def test_cli_ingest_inbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIGEST_DATABASE_URL", f"sqlite:///{tmp_path / 'digest.db'}")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.txt").write_bytes(SAMPLE_DUMPS[0].read_bytes())
    (inbox / "b.txt").write_bytes(b"")

    result = CliRunner().invoke(app, ["ingest", "--json", "--inbox", str(inbox)])

    assert result.exit_code == 1, result.output
    rows = json.loads(result.stdout)
    assert [(Path(r["file"]).name, r["status"]) for r in rows] == [
        ("a.txt", "ingested"),
        ("b.txt", "rejected"),
    ]
    assert f"rejected {inbox / 'b.txt'}: empty file" in result.stderr.splitlines()
    assert sorted(_files(inbox)) == ["done/a.txt", "rejected/b.txt", "rejected/b.txt.reason"]

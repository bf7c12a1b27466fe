"""`digest search` over the sample dumps: JSON, order, --since, --limit, errors, one ranking."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner, Result

from digest import pipeline
from digest.cli import app, main
from digest.cli import commands as _commands  # noqa: F401  (registers the commands)
from digest.config import Settings, load_settings
from digest.store.db import make_engine, migrate
from tests.conftest import NOW, SAMPLE_DUMPS

Run = Callable[..., Result]
QUERIES = [
    "SAM",
    "dermatology skin OR melanoma",
    "segmentation, skin lesion, x-ray",
    'title:"medical image" -survey',
]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file holding the four sample dumps, ingested once at NOW (2026-11-24 06:00Z)."""
    path = tmp_path_factory.mktemp("archive") / "digest.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        migrate(engine)
        settings = load_settings(database_url=f"sqlite:///{path}", timezone="UTC")
        results = pipeline.ingest_paths(engine, SAMPLE_DUMPS, settings=settings, now=NOW)
        assert [result.new for result in results] == [89, 47, 55, 122]
        pipeline.ensure_term_stats(engine)
    finally:
        engine.dispose()
    return path


@pytest.fixture
def database_url(archive: Path, tmp_path: Path) -> str:
    """A copy of the archive of the test's own (searching may refresh the term statistics)."""
    copy = tmp_path / "digest.db"
    shutil.copyfile(archive, copy)
    return f"sqlite:///{copy}"


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run `digest ARGS...` in-process on the archive, with default settings."""
    for name in list(os.environ):
        if name.startswith("DIGEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no config/digest.toml here: defaults and the environment
    monkeypatch.setenv("DIGEST_DATABASE_URL", database_url)
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, list(args))

    return run


def _search(cli: Run, *args: str) -> list[dict[str, object]]:
    result = cli("search", "--json", *args)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert isinstance(rows, list)
    return rows


def _main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["digest", *args])
    with pytest.raises(SystemExit) as info:
        main()
    code = info.value.code
    assert isinstance(code, int)
    return code


def _settings(database_url: str) -> Settings:
    return load_settings(database_url=database_url)


def test_json_is_a_list_of_explained_results_best_first(cli: Run) -> None:
    rows = _search(cli, "segmentation")

    assert len(rows) == 20  # the default limit; the archive has more
    assert all({"id", "title", "score", "matched_terms"} <= set(row) for row in rows)
    scores = [row["score"] for row in rows]
    assert all(isinstance(score, float) and score > 0 for score in scores)
    assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]
    assert all(row["matched_terms"] == ["segmentation"] for row in rows)
    assert _search(cli, "segmentation", "--limit", "3") == rows[:3]


def test_sam_is_a_whole_word(cli: Run, database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        results = pipeline.search_archive(engine, "SAM", settings=_settings(database_url))
        sampled = pipeline.search_archive(
            engine, "sample", settings=_settings(database_url), limit=1000
        )
    finally:
        engine.dispose()

    assert [row["id"] for row in _search(cli, "SAM")] == [r.paper.id for r in results]
    assert len(results) >= 5
    for result in results:
        assert _mentions_sam(f"{result.paper.title} {result.paper.abstract}"), result.paper
    # Papers about samples exist, and none of those that do not mention SAM is returned.
    only_sample = {
        r.paper.id for r in sampled if not _mentions_sam(f"{r.paper.title} {r.paper.abstract}")
    }
    assert len(only_sample) >= 10
    assert only_sample.isdisjoint(r.paper.id for r in results)


def _mentions_sam(text: str) -> bool:
    """SAM as a word, or as a capitalised piece of a name (MedSAM), never inside `sample`."""
    return bool(re.search(r"\bsam\b", text, re.IGNORECASE)) or "SAM" in text


@pytest.mark.parametrize("query", QUERIES)
def test_the_cli_and_the_pipeline_rank_alike(cli: Run, database_url: str, query: str) -> None:
    rows = _search(cli, query, "--limit", "50")
    engine = make_engine(database_url)
    try:
        results = pipeline.search_archive(engine, query, settings=_settings(database_url), limit=50)
    finally:
        engine.dispose()

    assert rows, query
    assert [row["id"] for row in rows] == [result.paper.id for result in results]
    assert [row["score"] for row in rows] == [round(result.score, 4) for result in results]
    assert [row["matched_terms"] for row in rows] == [
        result.explanation.matched_terms() for result in results
    ]


def test_since(cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    everything = _search(cli, "SAM")
    assert _search(cli, "SAM", "--since", "2026-11-24") == everything  # the ingest day
    assert _search(cli, "SAM", "--since", "2026-11-25") == []
    assert _search(cli, "SAM", "--since", "2999-01-01") == []
    none = cli("search", "SAM", "--since", "2999-01-01")
    assert (none.exit_code, none.stdout) == (0, "no paper matches\n")

    # 06:00Z on the 24th is 22:00 on the 23rd in Los Angeles: a day is the service's day.
    monkeypatch.setenv("DIGEST_TIMEZONE", "America/Los_Angeles")
    assert _search(cli, "SAM", "--since", "2026-11-24") == []
    assert _search(cli, "SAM", "--since", "2026-11-23") == everything

    bad = cli("search", "SAM", "--since", "24/11/2026")
    assert bad.exit_code == 2
    assert "use YYYY-MM-DD" in bad.stderr


@pytest.mark.parametrize(
    ("query", "problem", "where"),
    [
        ('skin "lesion', "unbalanced quote: a phrase is not closed", 6),
        ("skin OR", "OR needs a term on its right", 6),
        ("OR skin", "OR needs a term on its left", 1),
        ("skin, lesion OR x-ray", "use either commas or OR, not both", 14),
        ("skin -lesion OR x", "an excluded term cannot be part of OR", 6),
        ("skin title:", "nothing after 'title:'", 6),
        ("skin\x07", "control character U+0007 in the query", 5),
        ("-sample", "the query only excludes words; add at least one word to look for", None),
        ("the of", "the query has no words to look for", None),
        ("x" * 301, "the query is 301 characters long; the limit is 300", None),
        (" ".join(f"w{n}" for n in range(25)), "the query has more than 24 terms", None),
    ],
)
def test_a_bad_query_exits_1_with_one_line(
    cli: Run,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    query: str,
    problem: str,
    where: int | None,
) -> None:
    # `--` lets a query start with `-`, as a shell user would have to write it.
    assert _main(monkeypatch, "search", "--json", "--", query) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"error: {problem}")
    assert err.endswith("\n")
    assert err.count("\n") == 1
    if where is not None:  # the 1-based character the problem is at
        assert err.endswith(f" at character {where}\n")


def test_the_table_says_why(cli: Run) -> None:
    table = cli("search", "dermatology skin OR melanoma", "--limit", "3")
    assert table.exit_code == 0, table.output
    assert "score" in table.stdout
    assert "dermatology in" in table.stdout
    nothing = cli("search", "zzzyzzyva")
    assert (nothing.exit_code, nothing.stdout) == (0, "no paper matches\n")


def test_search_on_either_database(any_engine: Engine, settings: Settings) -> None:
    pipeline.ingest_paths(any_engine, SAMPLE_DUMPS, settings=settings, now=NOW)

    results = pipeline.search_archive(any_engine, "SAM", settings=settings)
    assert len(results) >= 5
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)
    assert all(_mentions_sam(f"{r.paper.title} {r.paper.abstract}") for r in results)
    assert pipeline.search_archive(any_engine, "dermatology skin OR melanoma", settings=settings)
    assert (
        pipeline.search_archive(any_engine, "SAM", settings=settings, since=NOW.replace(year=2027))
        == []
    )

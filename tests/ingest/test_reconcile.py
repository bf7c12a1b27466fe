"""The pure decision of what is new: identity by arXiv id, title key, near-duplicate title."""

from __future__ import annotations

from digest.ingest.identity import abstract_fingerprint, title_key
from digest.ingest.reconcile import reconcile
from digest.models import KnownPaper, ParsedPaper

ABSTRACT = (
    "We introduce a benchmark of chest radiographs annotated by radiologists for report "
    "generation, with baselines and an analysis of their failure modes across hospitals, "
    "scanners and patient populations, and release the code and the weights."
)


def _known(ident: int, title: str, *, arxiv_id: str | None = None) -> KnownPaper:
    return KnownPaper(
        id=ident,
        key=f"title:{title_key(title)}",
        arxiv_id=arxiv_id,
        title=title,
        title_key=title_key(title),
        abstract=ABSTRACT,
        abstract_hash=abstract_fingerprint(ABSTRACT),
        author_count=None,
        upvotes=3,
    )


def _parsed(position: int, title: str, **extra: object) -> ParsedPaper:
    return ParsedPaper(title=title, abstract=ABSTRACT, position=position, **extra)  # type: ignore[arg-type]


def test_case_and_dash_changes_are_the_same_paper() -> None:
    plan = reconcile(
        [_parsed(1, "MEDSHAPENET – a large dataset")], [_known(7, "MedShapeNet -- A Large Dataset")]
    )
    assert [s.paper_id for s in plan.seen] == [7]
    assert plan.new == ()


def test_typo_fixed_title_with_same_abstract_is_the_same_paper() -> None:
    plan = reconcile(
        [_parsed(1, "Chest X-ray Reprot Generation")], [_known(7, "Chest X-ray Report Generation")]
    )
    assert [s.paper_id for s in plan.seen] == [7]


def test_different_arxiv_ids_are_different_papers_despite_one_title() -> None:
    known = [_known(7, "A Survey", arxiv_id="2401.00001")]
    plan = reconcile([_parsed(1, "A Survey", arxiv_id="2502.00002")], known)
    assert plan.seen == ()
    assert [n.key for n in plan.new] == ["arxiv:2502.00002"]


def test_arxiv_id_is_learnt_by_a_paper_known_by_title() -> None:
    plan = reconcile(
        [_parsed(1, "Chest X-ray Report Generation", arxiv_id="2411.12345")],
        [_known(7, "Chest X-ray Report Generation")],
    )
    assert plan.seen[0].updates["arxiv_id"] == "2411.12345"


def test_two_new_entries_that_are_one_paper_count_once() -> None:
    plan = reconcile(
        [_parsed(1, "Chest X-ray Report Generation"), _parsed(2, "Chest X-ray Reprot Generation")],
        [],
    )
    assert len(plan.new) == 1
    assert plan.warnings == ("entry 2: same paper as entry 1, counted once",)


def test_upvotes_update_and_abstract_fill_in() -> None:
    short = _known(7, "Chest X-ray Report Generation")
    truncated = KnownPaper(
        **{**{f: getattr(short, f) for f in short.__slots__}, "abstract": ABSTRACT[:120]}
    )  # type: ignore[arg-type]
    plan = reconcile([_parsed(1, "Chest X-ray Report Generation", upvotes=9)], [truncated])
    updates = plan.seen[0].updates
    assert updates["upvotes"] == 9
    assert updates["abstract"] == ABSTRACT
    assert updates["abstract_hash"] == abstract_fingerprint(ABSTRACT)

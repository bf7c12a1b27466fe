"""Decide which parsed papers are new and which the store already knows. Pure: no database.

Matching, in order: the arXiv id; the title key (so case and punctuation changes match);
then the abstract fingerprint, accepted only when the titles are near-duplicates (a typo
fixed between versions), so two papers that share boilerplate abstracts stay apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from digest.ingest.identity import (
    abstract_fingerprint,
    is_near_duplicate_title,
    paper_key,
    title_key,
)
from digest.models import KnownPaper, NewPaper, ParsedPaper, Reconciliation, SeenPaper


def lookup_keys(papers: Iterable[ParsedPaper]) -> tuple[set[str], set[str], set[str]]:
    """The arXiv ids, title keys and abstract fingerprints to look up in the store."""
    arxiv_ids: set[str] = set()
    title_keys: set[str] = set()
    hashes: set[str] = set()
    for paper in papers:
        if paper.arxiv_id:
            arxiv_ids.add(paper.arxiv_id)
        title_keys.add(title_key(paper.title))
        if (fingerprint := abstract_fingerprint(paper.abstract)) is not None:
            hashes.add(fingerprint)
    return arxiv_ids, title_keys, hashes


def reconcile(parsed: Sequence[ParsedPaper], known: Iterable[KnownPaper]) -> Reconciliation:
    """Split a listing's papers into new ones and sightings of known ones.

    Two entries of one listing that turn out to be one paper (a near-duplicate title with the
    same abstract, or the same arXiv id) are reported as a warning and counted once.
    """
    by_arxiv: dict[str, KnownPaper] = {}
    by_title: dict[str, KnownPaper] = {}
    by_abstract: dict[str, list[KnownPaper]] = {}
    for stored in known:
        _remember(stored, by_arxiv, by_title, by_abstract)

    new: list[NewPaper] = []
    seen: list[SeenPaper] = []
    warnings: list[str] = []
    first_entry: dict[int, int] = {}  # paper id (negative for new ones) -> entry position
    for paper in parsed:
        key = title_key(paper.title)
        fingerprint = abstract_fingerprint(paper.abstract)
        match = _match(paper, key, fingerprint, by_arxiv, by_title, by_abstract)
        if match is not None and match.id in first_entry:
            warnings.append(
                f"entry {paper.position}: same paper as entry {first_entry[match.id]}, counted once"
            )
            continue
        if match is None:
            new.append(
                NewPaper(
                    parsed=paper,
                    key=paper_key(arxiv_id=paper.arxiv_id, title=paper.title),
                    title_key=key,
                    abstract_hash=fingerprint,
                )
            )
            # Later entries of this listing must find this one too: a provisional identity.
            provisional = KnownPaper(
                id=-len(new),
                key="",
                arxiv_id=paper.arxiv_id,
                title=paper.title,
                title_key=key,
                abstract=paper.abstract,
                abstract_hash=fingerprint,
                author_count=paper.author_count,
                upvotes=paper.upvotes,
            )
            _remember(provisional, by_arxiv, by_title, by_abstract)
            first_entry[provisional.id] = paper.position
        else:
            first_entry[match.id] = paper.position
            seen.append(SeenPaper(paper_id=match.id, parsed=paper, updates=_updates(match, paper)))
    return Reconciliation(new=tuple(new), seen=tuple(seen), warnings=tuple(warnings))


def _remember(
    paper: KnownPaper,
    by_arxiv: dict[str, KnownPaper],
    by_title: dict[str, KnownPaper],
    by_abstract: dict[str, list[KnownPaper]],
) -> None:
    if paper.arxiv_id:
        by_arxiv.setdefault(paper.arxiv_id, paper)
    by_title.setdefault(paper.title_key, paper)
    if paper.abstract_hash:
        by_abstract.setdefault(paper.abstract_hash, []).append(paper)


def _match(
    paper: ParsedPaper,
    key: str,
    fingerprint: str | None,
    by_arxiv: dict[str, KnownPaper],
    by_title: dict[str, KnownPaper],
    by_abstract: dict[str, list[KnownPaper]],
) -> KnownPaper | None:
    if paper.arxiv_id and paper.arxiv_id in by_arxiv:
        return by_arxiv[paper.arxiv_id]
    candidates = [by_title[key]] if key in by_title else []
    if fingerprint is not None:
        candidates += [
            candidate
            for candidate in by_abstract.get(fingerprint, [])
            if is_near_duplicate_title(candidate.title, paper.title)
        ]
    # Two different arXiv ids are two papers, whatever their titles say.
    return next(
        (
            candidate
            for candidate in candidates
            if not (paper.arxiv_id and candidate.arxiv_id and candidate.arxiv_id != paper.arxiv_id)
        ),
        None,
    )


def _updates(known: KnownPaper, paper: ParsedPaper) -> dict[str, object]:
    """What a new sighting teaches about a known paper; its identity key never changes."""
    updates: dict[str, object] = {}
    if paper.arxiv_id and not known.arxiv_id:
        updates["arxiv_id"] = paper.arxiv_id
    if paper.upvotes is not None and paper.upvotes != known.upvotes:
        updates["upvotes"] = paper.upvotes
    if paper.author_count is not None and known.author_count is None:
        updates["author_count"] = paper.author_count
    if paper.authors:
        updates["authors"] = list(paper.authors)
    # A dump cut off at the end leaves a truncated abstract; a later full one replaces it.
    if len(paper.abstract) > len(known.abstract) and paper.abstract.startswith(
        known.abstract.rstrip(" .…")
    ):
        updates["abstract"] = paper.abstract
        updates["abstract_hash"] = abstract_fingerprint(paper.abstract)
    return updates

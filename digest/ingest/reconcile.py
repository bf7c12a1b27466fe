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
    """Split a listing's papers into new ones and sightings of known ones."""
    by_arxiv: dict[str, KnownPaper] = {}
    by_title: dict[str, KnownPaper] = {}
    by_abstract: dict[str, list[KnownPaper]] = {}
    for stored in known:
        if stored.arxiv_id:
            by_arxiv[stored.arxiv_id] = stored
        by_title.setdefault(stored.title_key, stored)
        if stored.abstract_hash:
            by_abstract.setdefault(stored.abstract_hash, []).append(stored)

    new: list[NewPaper] = []
    seen: list[SeenPaper] = []
    for paper in parsed:
        key = title_key(paper.title)
        fingerprint = abstract_fingerprint(paper.abstract)
        match: KnownPaper | None = (
            by_arxiv.get(paper.arxiv_id) if paper.arxiv_id else None
        ) or by_title.get(key)
        if match is None and fingerprint is not None:
            match = next(
                (
                    candidate
                    for candidate in by_abstract.get(fingerprint, [])
                    if is_near_duplicate_title(candidate.title, paper.title)
                ),
                None,
            )
        if match is None:
            new.append(
                NewPaper(
                    parsed=paper,
                    key=paper_key(arxiv_id=paper.arxiv_id, title=paper.title),
                    title_key=key,
                    abstract_hash=fingerprint,
                )
            )
        else:
            seen.append(SeenPaper(paper_id=match.id, parsed=paper, updates=_updates(match, paper)))
    return Reconciliation(new=tuple(new), seen=tuple(seen))


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

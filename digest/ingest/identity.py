"""A paper's identity: its arXiv id where a source gives one, else a key made from its title."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from difflib import SequenceMatcher

_NON_ALNUM = re.compile(r"[\W_]+")
# New-style ids (2411.01234, optional version) and old-style ones (hep-th/9901001).
_ARXIV_ID = re.compile(
    r"(?:arxiv[:/ ]|abs/|pdf/|papers/)?"
    r"(?P<id>\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?",
    re.IGNORECASE,
)
NEAR_DUPLICATE_RATIO = 0.85


def title_key(title: str) -> str:
    """NFKC, case-fold, every run of non-alphanumerics collapsed to one space."""
    folded = unicodedata.normalize("NFKC", title).casefold()
    return _NON_ALNUM.sub(" ", folded).strip()


def abstract_fingerprint(abstract: str) -> str | None:
    """A hash of the normalised abstract, or None when it is too short to identify a paper."""
    key = title_key(abstract)
    if len(key) < 200:
        return None
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def normalize_arxiv_id(value: str) -> str | None:
    """Extract a bare arXiv id (no version) from an id, URL or `arXiv:` reference."""
    match = _ARXIV_ID.search(value.strip())
    return match.group("id").lower() if match else None


def paper_key(*, arxiv_id: str | None, title: str) -> str:
    """The stable identity string a paper keeps for life (feed ids are built from it)."""
    if arxiv_id:
        return f"arxiv:{arxiv_id}"
    return f"title:{title_key(title)}"


def is_near_duplicate_title(a: str, b: str) -> bool:
    """Whether two titles differ only by a small edit (a typo fixed between versions)."""
    return SequenceMatcher(None, title_key(a), title_key(b)).ratio() >= NEAR_DUPLICATE_RATIO


def content_hash(data: bytes) -> str:
    """The hash that tells whether a source was already ingested."""
    return hashlib.sha256(data).hexdigest()

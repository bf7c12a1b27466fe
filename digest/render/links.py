"""Links a paper view shows: its arXiv and daily papers pages, and a code repository.

Abstracts come from LaTeX sources and page copies, so a repository URL is often glued to what
follows it: `https://github.com/x/y}`, `.../tree/main{https://...}`, `SegDT{GitHub}.`,
`DuoFormer.git.`, `(see github.com/x/y)`. The URL is cut at the first character that cannot
belong to it and trimmed of sentence punctuation.
"""

from __future__ import annotations

import re

ARXIV_ABS = "https://arxiv.org/abs/"
DAILY_PAPERS = "https://huggingface.co/papers/"

_HOST = re.compile(r"github\.com/", re.IGNORECASE)
_PATH = re.compile(
    r"(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/"
    r"(?P<repo>(?:[A-Za-z0-9_.-]|\\_)+)"
    r"(?P<rest>/[A-Za-z0-9_.~%/#=+-]*)?"
)
# What may stand before the host: a scheme and www., after a non-word character.
_LEAD = re.compile(r"(?:https?://)?(?:www\.)?\Z", re.IGNORECASE)
_JOINED = re.compile(r"[\w.@/-]")
# github.com/<word>/... pages that are not repositories.
_NOT_OWNERS = frozenset(
    {"about", "collections", "explore", "features", "marketplace", "orgs", "settings", "topics"}
    | {"sponsors", "users", "login", "pricing", "site", "apps"}
)
_TRAILING = ".,;:!?'-/"


def arxiv_url(arxiv_id: str | None) -> str | None:
    """The arXiv abstract page of an id."""
    return f"{ARXIV_ABS}{arxiv_id}" if arxiv_id else None


def daily_url(arxiv_id: str | None) -> str | None:
    """The daily papers page of an arXiv id."""
    return f"{DAILY_PAPERS}{arxiv_id}" if arxiv_id else None


def repository_url(text: str) -> str | None:
    """The first GitHub repository URL in `text`, cleaned, as https://github.com/owner/repo..."""
    if "github.com/" not in text.lower():  # most abstracts: skip the regex scan (20x slower)
        return None
    # Find the host first and parse around it: one regex with a lookbehind and optional
    # prefixes runs ~6x slower, and this is called per paper per subscriber.
    for host in _HOST.finditer(text):
        before = text[max(0, host.start() - 12) : host.start()]
        lead = _LEAD.search(before)
        start = host.start() - (len(before) - lead.start()) if lead else host.start()
        if start > 0 and _JOINED.match(text, start - 1):  # notgithub.com, api.github.com
            continue
        match = _PATH.match(text, host.end())
        if match is None:
            continue
        owner = match.group("owner")
        if owner.lower() in _NOT_OWNERS:
            continue
        repo = match.group("repo").replace("\\_", "_")
        rest = (match.group("rest") or "").rstrip(_TRAILING)
        if not rest:
            repo = repo.rstrip(_TRAILING)
            if repo.lower().endswith(".git"):
                repo = repo[: -len(".git")]
        if not repo.strip(".-_"):
            continue
        return f"https://github.com/{owner}/{repo}{rest}"
    return None

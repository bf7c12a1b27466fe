"""The one analyzer for papers and queries: normalise, split, join variants, stem.

`x-ray`, `X-rays`, `xray` and `X ray` must meet: every hyphenated group, and every pair where
one side is a single letter, also yields the joined word (`xray`), stemmed like any other.
Terms are whole words, so `SAM` never matches inside `sample`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

import Stemmer

# Runs of letters/digits joined by hyphens: `x-ray`, `covid-19`, `self-supervised`.
_HYPHEN_CLASS = "[-\u2010-\u2013\u2212\ufe63\uff0d]"
_GROUP = re.compile(rf"[^\W_]+(?:{_HYPHEN_CLASS}[^\W_]+)*")
_HYPHENS = re.compile(_HYPHEN_CLASS)
# Plurals the English Snowball stemmer leaves apart from their singular.
_IRREGULAR = {
    "analyses": "analysis",
    "diagnoses": "diagnosis",
    "prognoses": "prognosis",
    "hypotheses": "hypothesis",
    "syntheses": "synthesis",
    "metastases": "metastasis",
    "theses": "thesis",
    "indices": "index",
    "matrices": "matrix",
    "vertices": "vertex",
    "criteria": "criterion",
    "phenomena": "phenomenon",
    "data": "data",
}
STOPWORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "their",
        "this",
        "to",
        "was",
        "were",
        "which",
        "with",
        "we",
        "our",
        "via",
        "using",
        "based",
    }
)


@dataclass(frozen=True, slots=True)
class Token:
    """A term and where it came from: character span in the text and word position."""

    term: str
    start: int
    end: int
    position: int
    compound: bool = False  # a joined form (`xray`) sharing the position of its first part


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Normalise (NFKC, case-fold) and stem one word."""
    folded = unicodedata.normalize("NFKC", word).casefold()
    folded = _IRREGULAR.get(folded, folded)
    if not folded.isascii() or any(ch.isdigit() for ch in folded):
        return folded
    return str(_stemmer().stemWord(folded))


def tokenize(text: str) -> list[Token]:
    """All tokens of a text in order, compounds included, with spans into `text`."""
    tokens: list[Token] = []
    position = 0
    previous: tuple[str, int, int] | None = None  # last plain word: (raw, start, end)
    for match in _GROUP.finditer(text):
        group = match.group()
        parts = _HYPHENS.split(group)
        start = match.start()
        first_position = position
        offset = start
        for part in parts:
            tokens.append(Token(stem(part), offset, offset + len(part), position))
            offset += len(part) + 1
            position += 1
        if len(parts) > 1:
            tokens.append(
                Token(stem("".join(parts)), start, match.end(), first_position, compound=True)
            )
        elif previous is not None and _joins(previous, group, text, start):
            raw, prev_start, _ = previous
            tokens.append(
                Token(stem(raw + group), prev_start, match.end(), first_position - 1, True)
            )
        previous = (group, start, match.end()) if len(parts) == 1 else None
    return tokens


def _joins(previous: tuple[str, int, int], word: str, text: str, start: int) -> bool:
    """`X ray`: two words one space apart, one of them a single letter."""
    raw, _, prev_end = previous
    if start - prev_end != 1 or text[prev_end] != " ":
        return False
    return _is_letter_part(raw) or _is_letter_part(word)


def _is_letter_part(word: str) -> bool:
    # `a` and `I` are words of their own, not the `X` of `X ray`.
    return len(word) == 1 and word.isalpha() and word.casefold() not in {"a", "i"}


def terms(text: str) -> list[str]:
    """The terms of a text (for indexing and statistics)."""
    return [token.term for token in tokenize(text)]


def word_terms(text: str) -> list[str]:
    """The plain (non-compound) terms of a text in order: what a phrase is made of."""
    return [token.term for token in tokenize(text) if not token.compound]


MAX_JOINED_IN_PHRASE = 4  # 2**4 variants at most per phrase


def phrase_variants(text: str) -> list[tuple[str, ...]]:
    """A phrase's term sequences: its words, then with joined forms in place of their parts.

    `"chest x-ray"` must also find `chest xray`, as the unquoted words do: every choice of
    non-overlapping compounds (`xray`, `selfsupervis`) gives one more sequence.
    """
    tokens = tokenize(text)
    plain = [token for token in tokens if not token.compound]
    compounds = [token for token in tokens if token.compound][:MAX_JOINED_IN_PHRASE]
    variants: dict[tuple[str, ...], None] = {}
    for mask in range(2 ** len(compounds)):
        chosen = sorted(
            (c for bit, c in enumerate(compounds) if mask >> bit & 1), key=lambda c: c.start
        )
        if any(a.end > b.start for a, b in pairwise(chosen)):
            continue  # `and X ray` joins as `andx` or as `xray`, not both
        sequence: list[str] = []
        for token in plain:
            cover = next((c for c in chosen if c.start <= token.start < c.end), None)
            if cover is None:
                sequence.append(token.term)
            elif cover.start == token.start:
                sequence.append(cover.term)
        variants.setdefault(tuple(sequence), None)
    return list(variants)


# Bump when tokenize() or stem() change: stored term statistics are then recomputed.
ANALYZER_VERSION = "1"

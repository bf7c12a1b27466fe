"""The one analyzer for papers and queries: normalise, split, join variants, stem.

`x-ray`, `X-rays`, `xray` and `X ray` must meet: every hyphenated group, and every pair where
one side is a single letter, also yields the joined word (`xray`), stemmed like any other.
Terms are whole words, so `SAM` never matches inside `sample`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import pairwise
from typing import NamedTuple

import Stemmer

# Runs of letters/digits joined by hyphens: `x-ray`, `covid-19`, `self-supervised`. Combining
# marks belong to their letter: decomposed `nai\u0308ve` is one word, as composed `naïve` is.
_HYPHEN_CLASS = "[-\u2010-\u2013\u2212\ufe63\uff0d]"
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_PART = rf"[^\W_]+(?:[{_MARKS}]+[^\W_]*)*"
_GROUP = re.compile(rf"{_PART}(?:{_HYPHEN_CLASS}{_PART})*")
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


class Token(NamedTuple):
    """A term and where it came from: character span in the text and word position (a named
    tuple: a text has as many tokens as words, and a tuple is three times quicker to make)."""

    term: str
    start: int
    end: int
    position: int
    # Not a word of the text but an extra term at a word's position: a joined form (`xray` of
    # `x-ray`, at its first part) or, with `piece`, a part of one word (`sam` of `MedSAM`).
    compound: bool = False
    width: int = 1  # word positions covered: 2 for the `xray` of `x-ray`, so phrases chain
    piece: bool = False  # looked up alone; phrases and queries never use it as a joined form


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Normalise (NFKC, case-fold, accents off Latin letters) and stem one word."""
    folded = unicodedata.normalize("NFKC", word).casefold()
    if not folded.isascii():
        # `naïve` -> `naive`; only when that leaves plain ASCII, so other scripts keep theirs.
        bare = "".join(
            c for c in unicodedata.normalize("NFD", folded) if not unicodedata.combining(c)
        )
        folded = bare if bare.isascii() else folded
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
            term = stem(part)
            tokens.append(Token(term, offset, offset + len(part), position))
            if not (part.isalpha() and (part.islower() or part.isupper() or part.istitle())):
                tokens.extend(_pieces(part, term, offset=offset, position=position))
            offset += len(part) + 1
            position += 1
        if len(parts) > 1:
            joined = stem("".join(parts))
            tokens.append(Token(joined, start, match.end(), first_position, True, width=len(parts)))
        elif previous is not None and _joins(previous, group, text, start):
            raw, prev_start, _ = previous
            joined = stem(raw + group)
            tokens.append(Token(joined, prev_start, match.end(), first_position - 1, True, 2))
        previous = (group, start, match.end()) if len(parts) == 1 else None
    return tokens


def _pieces(word: str, term: str, *, offset: int, position: int) -> list[Token]:
    """Extra terms at a word's position: its letter and digit runs (`resnet` of `ResNet50`) and
    the acronyms inside it (`sam` of `MedSAM` and `3DSAM`, `3d` of `Med3D`), so that `SAM`
    finds `MedSAM`; `sample` has none. Capitalised parts (`Segmentator` of `TotalSegmentator`)
    are left alone: looked up alone they found papers that only name a tool."""
    cuts, digit_cuts = _cuts(word)
    if not cuts:
        return []
    seen = {term}
    out: list[Token] = []
    for bounds, acronyms_only in ((digit_cuts, False), (cuts, True)):
        edges = [0, *bounds, len(word)]
        for a, b in pairwise(edges):
            raw = word[a:b]
            if b - a < 2 or (acronyms_only and not raw.isupper()):
                continue  # `T` of `ViT`, `2` of `SAM2`: too short to look for
            piece = stem(raw)
            if piece not in seen:
                seen.add(piece)
                out.append(Token(piece, offset + a, offset + b, position, True, piece=True))
    return out


def _cuts(word: str) -> tuple[list[int], list[int]]:
    """Where a word changes case (`Med|SAM`, `SAM|Score`) or letters to digits (`SAM|2`): all
    cuts, and the letter/digit ones alone."""
    cuts: list[int] = []
    digit_cuts: list[int] = []
    for i in range(1, len(word)):
        a, b = word[i - 1], word[i]
        after = word[i + 1] if i + 1 < len(word) else ""
        if a.isdigit() != b.isdigit():
            if a.isdigit() and b in "dD" and not after.islower():
                continue  # `3D`, `2D`: one unit
            cuts.append(i)
            digit_cuts.append(i)
        elif (a.islower() and b.isupper()) or (
            a.isupper()
            and b.isupper()
            and (
                (after.islower() and word[i + 2 : i + 3].islower())  # not `GANs`, `DINOv2`
                or (a in "dD" and i >= 2 and word[i - 2].isdigit())  # `3D|SAM`
            )
        ):
            cuts.append(i)
    return cuts, digit_cuts


def _joins(previous: tuple[str, int, int], word: str, text: str, start: int) -> bool:
    """`X ray`: two words one space apart, one of them a single letter."""
    raw, _, prev_end = previous
    # One space of any kind (a non-breaking one, a line break in wrapped text) apart.
    if start - prev_end != 1 or not text[prev_end].isspace():
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
    compounds = [t for t in tokens if t.compound and not t.piece][:MAX_JOINED_IN_PHRASE]
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
ANALYZER_VERSION = "2"

"""Why a paper was chosen: which alerts, which terms, in which field, and highlighted text.

Highlighting escapes the paper's text first and only then adds `<mark>`, so nothing in a
title or abstract can inject HTML; the marked spans are exactly the matched terms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup, escape

from digest.rank.analyzer import Token, tokenize
from digest.rank.query import Query, Term

SNIPPET_CHARS = 280


@dataclass(frozen=True, slots=True)
class MatchedTerm:
    """A term of an alert as typed, and the fields it was found in."""

    text: str
    fields: tuple[str, ...]  # "title", "abstract"


@dataclass(frozen=True, slots=True)
class AlertReason:
    """One matched alert and its terms found in the paper."""

    alert_id: int
    query: str
    terms: tuple[MatchedTerm, ...]


@dataclass(frozen=True, slots=True)
class Explanation:
    """Everything a surface shows about why a paper is there."""

    reasons: tuple[AlertReason, ...]
    title_html: str
    snippet_html: str
    snippet_text: str

    def matched_terms(self) -> list[str]:
        """The distinct matched terms, as the subscriber typed them, in order."""
        seen: dict[str, None] = {}
        for reason in self.reasons:
            for term in reason.terms:
                seen.setdefault(term.text.lstrip("-"), None)
        return list(seen)


def explain(
    alerts: Sequence[tuple[int, Query]],
    *,
    title: str,
    abstract: str,
    snippet_chars: int = SNIPPET_CHARS,
) -> Explanation:
    """Explain a paper against the alerts that matched it."""
    title_tokens = _by_term(title)
    abstract_tokens = _by_term(abstract)
    title_spans: list[tuple[int, int]] = []
    abstract_spans: list[tuple[int, int]] = []
    reasons = []
    for alert_id, query in alerts:
        found = []
        for term in query.terms():
            in_title = _spans(term, title_tokens)
            in_abstract = [] if term.feature.title_only else _spans(term, abstract_tokens)
            fields = tuple(
                name for name, spans in (("title", in_title), ("abstract", in_abstract)) if spans
            )
            if fields:
                found.append(MatchedTerm(text=term.text, fields=fields))
            title_spans.extend(in_title)
            abstract_spans.extend(in_abstract)
        reasons.append(AlertReason(alert_id=alert_id, query=query.text, terms=tuple(found)))
    start, end = _window(abstract, _merge(abstract_spans), snippet_chars)
    inside = [
        (max(a, start), min(b, end)) for a, b in _merge(abstract_spans) if b > start and a < end
    ]
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(abstract) else ""
    return Explanation(
        reasons=tuple(reasons),
        title_html=str(_highlight(title, _merge(title_spans), 0, len(title))),
        snippet_html=prefix + str(_highlight(abstract, inside, start, end)) + suffix,
        snippet_text=prefix + abstract[start:end] + suffix,
    )


@lru_cache(maxsize=8192)
def _by_term(text: str) -> Mapping[str, tuple[Token, ...]]:
    """A text's tokens grouped by term, kept: one paper is explained for many different sets
    of alerts, and each explanation looks terms up many times."""
    grouped: dict[str, list[Token]] = {}
    for token in tokenize(text):
        grouped.setdefault(token.term, []).append(token)
    return {term: tuple(tokens) for term, tokens in grouped.items()}


def _spans(term: Term, by_term: Mapping[str, tuple[Token, ...]]) -> list[tuple[int, int]]:
    """Character spans of a term's occurrences, found as the index finds them: each term of a
    sequence starts where the previous one ends (`xray` of `x-ray` covers two words)."""
    spans: list[tuple[int, int]] = []
    for alternative in term.feature.alternatives:
        # (first character, last character, next word position) of each partial match
        paths = [(t.start, t.end, t.position + t.width) for t in by_term.get(alternative[0], ())]
        for word in alternative[1:]:
            paths = [
                (first, t.end, t.position + t.width)
                for first, _, after in paths
                for t in by_term.get(word, ())
                if t.position == after
            ]
        spans.extend((first, last) for first, last, _ in paths)
    return spans


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _window(text: str, spans: list[tuple[int, int]], width: int) -> tuple[int, int]:
    """The stretch of `text` of about `width` characters holding the most matches."""
    if len(text) <= width:
        return 0, len(text)
    best_start, best_count = 0, -1
    for anchor, _ in spans or [(0, 0)]:
        start = max(0, anchor - width // 4)
        count = sum(1 for a, b in spans if a >= start and b <= start + width)
        if count > best_count:
            best_start, best_count = start, count
    start = best_start
    if start > 0:  # begin at a word boundary
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 20 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start + width // 2 else end
    return start, end


def _highlight(text: str, spans: list[tuple[int, int]], start: int, end: int) -> Markup:
    parts: list[Markup] = []
    cursor = start
    for a, b in spans:
        if a < cursor or b > end:
            continue
        parts.append(escape(text[cursor:a]))
        parts.append(Markup("<mark>") + escape(text[a:b]) + Markup("</mark>"))
        cursor = b
    parts.append(escape(text[cursor:end]))
    return Markup("").join(parts)

"""The alert language, parsed once into a tree every surface shares.

    query   := item ("," item)*             a comma list: any item may match
    item    := group+                       groups are ANDed
    group   := term ("OR" term)*            OR binds tighter than the implicit AND
    term    := ["-"] ["title:"] (word | '"' phrase '"')

`dermatology skin OR melanoma` means dermatology AND (skin OR melanoma). In a comma list
(`segmentation, skin lesion, x-ray`) each item is one alternative and a multi-word item is a
phrase. Stop words are dropped from plain words (not from phrases). A single letter and the
word next to it are one word, as the analyzer joins them: `X ray` means `x-ray` (`xray`, or
`x ray` in a row), `T cell OR B cell` two alternatives. `-` goes before `title:`
(`-title:skin`); `title:-skin` and `title:title:skin` are refused.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from digest.errors import QueryError
from digest.rank.analyzer import STOPWORDS, phrase_variants, tokenize

MAX_QUERY_CHARS = 300
MAX_TERMS = 24
_TOKEN = re.compile(r'\s+|"[^"]*"?|,|[^\s",]+')


@dataclass(frozen=True, slots=True)
class Feature:
    """What is looked for in a paper: alternatives of term sequences, in a field."""

    alternatives: tuple[tuple[str, ...], ...]  # one term, or a phrase's terms in order
    title_only: bool = False


@dataclass(frozen=True, slots=True)
class Term:
    """A term as the subscriber wrote it, and the feature it becomes."""

    text: str
    feature: Feature


@dataclass(frozen=True, slots=True)
class Query:
    """An alert: every clause must have a term present; no excluded term may be present."""

    text: str
    clauses: tuple[tuple[Term, ...], ...]
    excluded: tuple[Term, ...] = ()

    def terms(self) -> tuple[Term, ...]:
        """Every positive term, in order."""
        return tuple(term for clause in self.clauses for term in clause)


@lru_cache(maxsize=262_144)  # 10^5 subscribers hold ~2x10^5 distinct alerts
def parse_query(text: str) -> Query:
    """Parse an alert; raise QueryError saying what is wrong and where."""
    _check_characters(text)
    stripped = text.strip()
    if not stripped:
        raise QueryError("the query is empty")
    if len(stripped) > MAX_QUERY_CHARS:
        leading = len(text) - len(text.lstrip())
        raise QueryError(
            f"the query is {len(stripped)} characters long; the limit is {MAX_QUERY_CHARS}",
            position=leading + MAX_QUERY_CHARS,  # the first character over the limit
        )
    lexemes = _lex(text)
    if any(kind == "," for kind, _, _ in lexemes):
        query = _parse_comma_list(text, lexemes)
    else:
        query = _parse_boolean(text, lexemes)
    if not query.clauses:
        if query.excluded:
            raise QueryError("the query only excludes words; add at least one word to look for")
        raise QueryError(
            "the query has no words to look for (common words such as 'the' are ignored)"
        )
    if len(query.terms()) + len(query.excluded) > MAX_TERMS:
        raise QueryError(f"the query has more than {MAX_TERMS} terms")
    return query


def _check_characters(text: str) -> None:
    for index, char in enumerate(text):
        if unicodedata.category(char) in {"Cc", "Cf"} and char not in " \t":
            raise QueryError(f"control character U+{ord(char):04X} in the query", position=index)


def _lex(text: str) -> list[tuple[str, str, int]]:
    """(kind, text, position) lexemes: 'word', 'phrase', 'or', ','."""
    out: list[tuple[str, str, int]] = []
    for match in _TOKEN.finditer(text):
        value, start = match.group(), match.start()
        if value.isspace():
            continue
        out.append((_kind(value), value, start))
    return _join_letters(_merge_prefixed_phrases(text, out))


def _kind(value: str) -> str:
    if value == ",":
        return ","
    if value == "OR":
        return "or"
    if value.startswith('"'):
        return "phrase"
    return "word"


def _merge_prefixed_phrases(
    text: str, lexemes: list[tuple[str, str, int]]
) -> list[tuple[str, str, int]]:
    """`-"a b"` and `title:"a b"` lex as a prefix word then a phrase; join them."""
    merged: list[tuple[str, str, int]] = []
    for kind, value, start in lexemes:
        if (
            kind == "phrase"
            and merged
            and merged[-1][0] == "word"
            and merged[-1][2] + len(merged[-1][1]) == start
            and merged[-1][1].lower() in {"-", "title:", "-title:"}
        ):
            _, prefix, prefix_start = merged.pop()
            merged.append(("phrase", prefix + value, prefix_start))
        else:
            merged.append((kind, value, start))
        if kind == "phrase" and (len(value) < 2 or not value.endswith('"')):
            raise QueryError("unbalanced quote: a phrase is not closed", position=start)
    return merged


def _join_letters(lexemes: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    """`X ray` is one word, as in the analyzer; a letter joins the word after it if it can
    (`type B cell`: `B cell`), else the word before it (`vitamin D`)."""
    out: list[tuple[str, str, int]] = []
    index = 0
    while index < len(lexemes):
        kind, value, start = lexemes[index]
        if _joinable(lexemes, index) and not (
            not _is_letter(value) and _joinable(lexemes, index + 1)
        ):
            out.append((kind, f"{value} {lexemes[index + 1][1]}", start))
            index += 2
            continue
        out.append((kind, value, start))
        index += 1
    return out


def _joinable(lexemes: list[tuple[str, str, int]], index: int) -> bool:
    """Two plain words one space apart that the analyzer joins (one of them a letter)."""
    if index + 1 >= len(lexemes):
        return False
    (kind, value, start), (next_kind, next_value, next_start) = lexemes[index : index + 2]
    if kind != "word" or next_kind != "word" or next_start != start + len(value) + 1:
        return False
    if _split_prefix(next_value)[0]:
        return False
    text = f"{_split_prefix(value)[1]} {next_value}"
    return any(
        token.compound and not token.piece and token.start == 0 and token.end == len(text)
        for token in tokenize(text)
    )


def _is_letter(value: str) -> bool:
    return len(_split_prefix(value)[1]) == 1


def _parse_boolean(text: str, lexemes: list[tuple[str, str, int]]) -> Query:
    clauses: list[tuple[Term, ...]] = []
    excluded: list[Term] = []
    index = 0
    while index < len(lexemes):
        kind, value, start = lexemes[index]
        if kind == "or":
            raise QueryError("OR needs a term on its left", position=start)
        group = [_term(value, start, phrase=kind == "phrase")]
        index += 1
        while index < len(lexemes) and lexemes[index][0] == "or":
            or_start = lexemes[index][2]
            if index + 1 >= len(lexemes):
                raise QueryError("OR needs a term on its right", position=or_start)
            if lexemes[index + 1][0] == "or":
                raise QueryError("OR twice in a row", position=lexemes[index + 1][2])
            next_kind, next_value, next_start = lexemes[index + 1]
            group.append(_term(next_value, next_start, phrase=next_kind == "phrase"))
            index += 2
        negated = [item for item in group if item[1]]
        if negated and len(group) > 1:
            raise QueryError("an excluded term cannot be part of OR", position=negated[0][2])
        if negated:
            if negated[0][0] is not None:
                excluded.append(negated[0][0])
            continue
        terms = tuple(term for term, _, _ in group if term is not None)
        if terms:
            clauses.append(terms)
    return Query(text=text.strip(), clauses=tuple(clauses), excluded=tuple(excluded))


def _parse_comma_list(text: str, lexemes: list[tuple[str, str, int]]) -> Query:
    alternatives: list[Term] = []
    excluded: list[Term] = []
    items: list[list[tuple[str, str, int]]] = [[]]
    for lexeme in lexemes:
        if lexeme[0] == ",":
            items.append([])
        else:
            items[-1].append(lexeme)
    for item in items:
        if not item:
            continue
        ors = [start for kind, _, start in item if kind == "or"]
        if ors:
            raise QueryError("use either commas or OR, not both", position=ors[0])
        start = item[0][2]
        end = item[-1][2] + len(item[-1][1])
        raw = text[start:end]
        if len(item) == 1:
            term, negated, _ = _term(item[0][1], start, phrase=item[0][0] == "phrase")
        else:
            # A multi-word keyword is a phrase: `skin lesion` means those words together.
            prefix, body = _split_prefix(raw)
            _check_prefixes(prefix, body, start + len(prefix))
            term, negated, _ = _term(f'{prefix}"{body.replace(chr(34), "")}"', start, phrase=True)
            if term is not None:  # keep the item as typed, without the quotes added here
                term = Term(text=raw, feature=term.feature)
        if term is None:
            continue
        (excluded if negated else alternatives).append(term)
    clauses = (tuple(alternatives),) if alternatives else ()
    return Query(text=text.strip(), clauses=clauses, excluded=tuple(excluded))


def _split_prefix(raw: str) -> tuple[str, str]:
    lowered = raw.lower()
    for prefix in ("-title:", "title:", "-"):
        if lowered.startswith(prefix):
            return raw[: len(prefix)], raw[len(prefix) :]
    return "", raw


def _term(value: str, start: int, *, phrase: bool) -> tuple[Term | None, bool, int]:
    """Build one term; returns (term or None for a dropped stop word, negated, position)."""
    prefix, body = _split_prefix(value)
    negated = prefix.startswith("-")
    title_only = prefix.lower().endswith("title:")
    where = start + len(prefix)  # the body's first character
    if body == '""':
        raise QueryError("empty phrase", position=where)
    if not body:
        raise QueryError(f"nothing after {prefix!r}", position=start)
    _check_prefixes(prefix, body, where)
    if phrase or body.startswith('"'):
        # The words in a row, or with `xray` for `x-ray`: quoting must not lose a variant.
        alternatives: tuple[tuple[str, ...], ...] = tuple(phrase_variants(body.strip('"')))
        if not alternatives[0]:
            raise QueryError(f"the phrase {body} has no words", position=where)
    else:
        alternatives = _word_alternatives(body)
        if not alternatives:
            return None, negated, start  # punctuation only: nothing to look for
        if alternatives == ((alternatives[0][0],),) and alternatives[0][0] in STOPWORDS:
            return None, negated, start  # a lone stop word would match every paper
    feature = Feature(alternatives=alternatives, title_only=title_only)
    return Term(text=value, feature=feature), negated, start


def _check_prefixes(prefix: str, body: str, where: int) -> None:
    """One prefix per term: `title:-skin` used to search titles for skin, `title:title:skin`
    for the phrase "title skin"."""
    inner = _split_prefix(body)[0]
    if inner == "-" and not prefix.startswith("-"):
        raise QueryError(
            f"put '-' before 'title:' to exclude a word from titles: -{prefix}{body[1:]}",
            position=where,
        )
    if inner:
        raise QueryError(f"{inner!r} cannot follow {prefix!r}", position=where)


def _word_alternatives(word: str) -> tuple[tuple[str, ...], ...]:
    """A plain word: its term; a hyphenated one: the joined form, or its parts in a row."""
    tokens = tokenize(word)
    compounds = [token.term for token in tokens if token.compound and not token.piece]
    parts = tuple(token.term for token in tokens if not token.compound)
    if compounds:
        return ((compounds[0],), parts)
    if len(parts) > 1:  # `foo/bar`, `C++`: the words in a row
        return (parts,)
    return (parts,) if parts else ()

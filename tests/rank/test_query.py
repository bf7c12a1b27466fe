"""The alert language: each operator, precedence, stop words, and every refusal with its place."""

from __future__ import annotations

import pytest

from digest.errors import QueryError
from digest.rank.query import MAX_QUERY_CHARS, MAX_TERMS, parse_query
from digest.rank.search import search
from tests.rank.support import make_index, matching

DOCS = (
    "dermatology of skin lesions",  # 0
    "dermatology and melanoma screening",  # 1
    "dermatology atlas",  # 2
    "skin lesion segmentation",  # 3
    "melanoma detection in skin images",  # 4
    "lesion of the skin",  # 5
)


@pytest.mark.parametrize(
    ("query", "rows"),
    [
        ("dermatology", [0, 1, 2]),
        ("dermatology skin", [0]),  # words: all of them
        ("skin lesion", [0, 3, 5]),  # anywhere, any order
        ('"skin lesion"', [0, 3]),  # a phrase: in a row, in order (`skin lesions` too)
        ('"lesion skin"', []),
        ('"lesion of the skin"', [5]),  # stop words stay in phrases
        ("skin -melanoma", [0, 3, 5]),
        ('skin -"skin lesion"', [4, 5]),  # an excluded phrase
        ("skin OR melanoma", [0, 1, 3, 4, 5]),
        ("dermatology skin OR melanoma", [0, 1]),  # dermatology AND (skin OR melanoma)
        ("skin OR melanoma dermatology", [0, 1]),  # the same, the other way round
        ("skin OR melanoma -dermatology", [3, 4, 5]),
        ("dermatology, skin lesion", [0, 1, 2, 3]),  # any item; `skin lesion` a phrase
        ("melanoma, -dermatology", [4]),  # an excluded item
        ("the skin", [0, 3, 4, 5]),  # `the` is dropped, not required
        ("skin of lesion", [0, 3, 5]),
        ("SKIN Lesion", [0, 3, 5]),
    ],
)
def test_operators_and_precedence(query: str, rows: list[int]) -> None:
    assert matching(query, DOCS) == rows


def test_title_only_terms_look_at_titles_alone() -> None:
    index = make_index(
        [("Skin lesion atlas", "about melanoma"), ("Melanoma atlas", "skin lesions")]
    )

    def rows(query: str) -> list[int]:
        return sorted(hit.paper.id for hit in search(parse_query(query), index, limit=5))

    assert rows("skin") == [0, 1]
    assert rows("title:skin") == [0]
    assert rows('title:"skin lesion"') == [0]
    assert rows('title:"lesion atlas"') == [0]
    assert rows("atlas -title:skin") == [1]  # excluded from titles only
    assert rows("atlas -skin") == []
    assert rows("TITLE:melanoma") == [1]
    assert rows("title:melanoma, title:skin") == [0, 1]


def test_lower_case_or_is_a_stop_word_not_the_operator() -> None:
    query = parse_query("skin or melanoma")
    assert [[t.text for t in clause] for clause in query.clauses] == [["skin"], ["melanoma"]]
    assert matching("skin or melanoma", DOCS) == [4]


def test_structure_of_a_mixed_query() -> None:
    query = parse_query('dermatology skin OR "skin lesion" -melanoma -title:atlas')
    assert [[t.text for t in clause] for clause in query.clauses] == [
        ["dermatology"],
        ["skin", '"skin lesion"'],
    ]
    assert [t.text for t in query.excluded] == ["-melanoma", "-title:atlas"]
    assert [t.feature.title_only for t in query.excluded] == [False, True]


def test_comma_items_keep_the_text_as_typed() -> None:
    query = parse_query("segmentation, skin lesion, -title:atlas")
    assert [t.text for t in query.terms()] == ["segmentation", "skin lesion"]
    assert query.terms()[1].feature.alternatives == (("skin", "lesion"),)
    assert [t.text for t in query.excluded] == ["-title:atlas"]


def test_a_letter_and_its_neighbour_are_one_word() -> None:
    assert parse_query("X ray").terms()[0].feature.alternatives == (("xray",), ("x", "ray"))
    # The joined word is one term: OR takes it whole.
    query = parse_query("X ray OR MRI")
    assert [[t.text for t in clause] for clause in query.clauses] == [["X ray", "MRI"]]
    # A letter joins the word after it first.
    assert [t.text for t in parse_query("type B cell").terms()] == ["type", "B cell"]
    assert [t.text for t in parse_query("-X ray skin").excluded] == ["-X ray"]
    # Two spaces, or a prefix on the second word, keep them apart.
    assert len(parse_query("X  ray").clauses) == 2
    assert len(parse_query("X -ray").excluded) == 1


def test_lone_stop_words_are_dropped_but_a_query_of_only_stop_words_is_refused() -> None:
    assert [t.text for t in parse_query("the skin of a patient").terms()] == ["skin", "patient"]
    assert [t.text for t in parse_query("skin OR the").terms()] == ["skin"]
    with pytest.raises(QueryError, match="no words to look for"):
        parse_query("the of a")
    with pytest.raises(QueryError, match="no words to look for"):
        parse_query("the OR of")


def test_whitespace_and_empty_comma_items_are_tolerated() -> None:
    assert parse_query("  skin\tlesion  ").text == "skin\tlesion"
    assert [t.text for t in parse_query("skin,, lesion,").terms()] == ["skin", "lesion"]
    at_limit = " ".join(f"w{i}" for i in range(MAX_TERMS))
    assert len(parse_query(at_limit).clauses) == MAX_TERMS


def _refusal(query: str) -> QueryError:
    with pytest.raises(QueryError) as caught:
        parse_query(query)
    return caught.value


@pytest.mark.parametrize(
    ("query", "message", "at"),
    [
        ('skin "lesion', "unbalanced quote", '"lesion'),
        ('skin"', "unbalanced quote", '"'),
        ('title:"skin lesion', "unbalanced quote", '"skin lesion'),
        ('dermatology -"skin', "unbalanced quote", '"skin'),
        ("skin\x07lesion", "control character U+0007", "\x07"),
        ("skin\u200blesion", "control character U+200B", "\u200b"),
        ("skin\nlesion", "control character U+000A", "\n"),
        ("OR skin", "OR needs a term on its left", "OR skin"),
        ("skin OR", "OR needs a term on its right", "OR"),
        ("skin OR OR melanoma", "OR twice in a row", "OR melanoma"),
        ("skin OR -melanoma", "an excluded term cannot be part of OR", "-melanoma"),
        ("-melanoma OR skin", "an excluded term cannot be part of OR", "-melanoma"),
        ("skin, melanoma OR nevus", "use either commas or OR", "OR nevus"),
        ('skin ""', "empty phrase", '""'),
        ('skin title:""', "empty phrase", '""'),
        ('skin "  "', 'the phrase "  " has no words', '"  "'),
        ("skin title:", "nothing after 'title:'", "title:"),
        ("title: skin", "nothing after 'title:'", "title: skin"),
        ("skin -", "nothing after '-'", "-"),
        (
            "title:-skin",
            "put '-' before 'title:' to exclude a word from titles: -title:skin",
            "-skin",
        ),
        ("atlas title:title:skin", "'title:' cannot follow 'title:'", "title:skin"),
        ("atlas --skin", "'-' cannot follow '-'", "-skin"),
        ("atlas -title:-skin", "'-' cannot follow '-title:'", "-skin"),
        ("atlas title:-title:skin", "'-title:' cannot follow 'title:'", "-title:skin"),
    ],
)
def test_refusals_say_what_and_where(query: str, message: str, at: str) -> None:
    error = _refusal(query)
    assert message in error.message
    assert error.position is not None
    assert query[error.position :].startswith(at)
    assert str(error).endswith(f"at character {error.position + 1}")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "the query is empty"),
        (" \t ", "the query is empty"),
        ("-skin", "only excludes words"),
        ('-skin -"skin lesion" -title:atlas', "only excludes words"),
        ("-skin, -melanoma", "only excludes words"),
        ("!!! ,", "no words to look for"),
        (" ".join(f"w{i}" for i in range(MAX_TERMS + 1)), f"more than {MAX_TERMS} terms"),
        (" ".join(f"w{i}" for i in range(MAX_TERMS)) + " -x", f"more than {MAX_TERMS} terms"),
    ],
)
def test_refusals_of_the_whole_query_have_no_position(query: str, message: str) -> None:
    error = _refusal(query)
    assert message in error.message
    assert error.position is None
    assert str(error) == error.message


def test_the_length_cap_points_at_the_first_character_over_it() -> None:
    at_cap = "skin " + "x" * (MAX_QUERY_CHARS - 5)
    assert len(at_cap) == MAX_QUERY_CHARS
    assert parse_query(f"  {at_cap}  ").text == at_cap  # surrounding blanks do not count
    error = _refusal(f"  {at_cap}y")
    assert f"is {MAX_QUERY_CHARS + 1} characters long; the limit is {MAX_QUERY_CHARS}" in str(error)
    assert f"  {at_cap}y"[error.position or 0 :] == "y"


def test_title_minus_is_refused_rather_than_searching_titles_for_the_word() -> None:
    # It used to search titles for `skin`, the opposite of what was meant.
    assert "-title:skin" in _refusal("title:-skin").message
    assert "-title:skin lesion" in _refusal("atlas, title:-skin lesion").message
    # What it means is written this way, and works.
    assert parse_query("atlas -title:skin").excluded[0].feature.title_only


def test_an_excluded_term_inside_a_phrase_is_just_a_word() -> None:
    query = parse_query('title:"-skin lesion"')
    assert query.terms()[0].feature.alternatives == (("skin", "lesion"),)

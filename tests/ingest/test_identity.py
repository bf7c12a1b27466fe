"""Identity: title keys survive case and punctuation changes; arXiv ids are found and normalised."""

from __future__ import annotations

from datetime import date

import pytest

from digest.ingest.dates import resolve_date
from digest.ingest.identity import (
    is_near_duplicate_title,
    normalize_arxiv_id,
    paper_key,
    title_key,
)

TITLE = "MedShapeNet -- A Large-Scale Dataset of 3D Medical Shapes for Computer Vision"


@pytest.mark.parametrize(
    "variant",
    [
        TITLE,
        "MedShapeNet – A Large-Scale Dataset of 3D Medical Shapes for Computer Vision",
        "MedShapeNet — A Large-Scale Dataset of 3D Medical Shapes for Computer Vision",
        "MedShapeNet: A Large-Scale Dataset of 3D Medical Shapes for Computer Vision",
        "medshapenet -- a large-scale dataset of 3d medical shapes for computer vision",
        "MEDSHAPENET -- A LARGE SCALE DATASET OF 3D MEDICAL SHAPES FOR COMPUTER VISION.",
        "  MedShapeNet\u00a0--  A Large‐Scale Dataset of 3D Medical Shapes for Computer Vision ",
        "ＭｅｄＳｈａｐｅＮｅｔ -- A Large-Scale Dataset of ３D Medical Shapes for Computer Vision",
        "MedShapeNet_--_A_Large_Scale_Dataset_of_3D_Medical_Shapes_for_Computer_Vision",
    ],
)
def test_title_key_ignores_case_punctuation_and_width(variant: str) -> None:
    assert title_key(variant) == title_key(TITLE)
    assert (
        title_key(TITLE)
        == "medshapenet a large scale dataset of 3d medical shapes for computer vision"
    )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Deep Learning for X-Ray Analysis", "Deep Learning for X-Rays Analysis"),
        ("GMAI-VL & GMAI-VL-5.5M", "GMAI-VL & GMAI-VL-55M"),
        ("Café Models", "Cafe Models"),
    ],
)
def test_title_key_keeps_words_and_letters_apart(a: str, b: str) -> None:
    assert title_key(a) != title_key(b)


def test_title_key_of_html_looking_title_is_its_words() -> None:
    assert title_key("<script>alert(1)</script> Title") == "script alert 1 script title"


def test_title_key_folds_ligatures_and_sharp_s() -> None:
    assert title_key("Eﬃcient Straße") == title_key("EFFICIENT STRASSE")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2411.12345", "2411.12345"),
        ("2411.12345v3", "2411.12345"),
        ("arXiv:2411.01234v1", "2411.01234"),
        ("oai:arXiv.org:2411.01234v1", "2411.01234"),
        ("https://arxiv.org/abs/2411.01234", "2411.01234"),
        ("http://arxiv.org/pdf/2411.01234v2", "2411.01234"),
        ("https://huggingface.co/papers/2411.01234", "2411.01234"),
        ("0704.0001", "0704.0001"),
        ("http://arxiv.org/abs/hep-th/9901001v1", "hep-th/9901001"),
        ("http://arxiv.org/abs/physics/0601001v1", "physics/0601001"),
        ("math.GT/0309136", "math.gt/0309136"),
        ("no identifier here", None),
        ("", None),
    ],
)
def test_normalize_arxiv_id(value: str, expected: str | None) -> None:
    assert normalize_arxiv_id(value) == expected


def test_paper_key_prefers_the_arxiv_id() -> None:
    assert paper_key(arxiv_id="2411.01234", title=TITLE) == "arxiv:2411.01234"
    assert paper_key(arxiv_id=None, title=TITLE) == f"title:{title_key(TITLE)}"


def test_near_duplicate_titles() -> None:
    assert is_near_duplicate_title(TITLE, TITLE.replace("Computer", "Computr"))
    assert not is_near_duplicate_title(TITLE, "Vision Language Models in Medicine")


@pytest.mark.parametrize(
    ("month", "day", "year", "expected"),
    [
        ("Mar", 11, None, date(2026, 3, 11)),
        ("mar", 11, None, date(2026, 3, 11)),
        ("March", 11, None, date(2026, 3, 11)),
        ("Nov", 24, None, date(2026, 11, 24)),
        ("Nov", 25, None, date(2025, 11, 25)),
        ("Feb", 29, None, date(2024, 2, 29)),
        ("Feb", 29, 2025, None),
        ("Apr", 31, None, None),
        ("Sep", 8, 2025, date(2025, 9, 8)),
        ("Sept", 8, 2025, date(2025, 9, 8)),
        ("Dec", 31, 2030, date(2030, 12, 31)),  # an explicit year is taken as written
    ],
)
def test_resolve_date(month: str, day: int, year: int | None, expected: date | None) -> None:
    assert resolve_date(month, day, year, reference=date(2026, 11, 24)) == expected


def test_feb_29_from_a_leap_day() -> None:
    assert resolve_date("Feb", 29, None, reference=date(2028, 2, 29)) == date(2028, 2, 29)
    assert resolve_date("Feb", 29, None, reference=date(2028, 2, 28)) == date(2024, 2, 29)

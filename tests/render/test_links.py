"""Repository links found in abstracts, cleaned of what LaTeX and page copies glue to them."""

from __future__ import annotations

import pytest

from digest.render.links import arxiv_url, daily_url, repository_url


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Code: https://github.com/x/y}", "https://github.com/x/y"),  # sample dump 000
        ("at https://github.com/uni-medical/GMAI-VL.", "https://github.com/uni-medical/GMAI-VL"),
        (
            "https://github.com/MahdiTabassian/Deep-Clutter-Filtering/tree/main"
            "{https://github.com/MahdiTabassian/Deep-Clutter-Filtering/tree/main}.",
            "https://github.com/MahdiTabassian/Deep-Clutter-Filtering/tree/main",
        ),
        ("github.com/Bekhouche/SegDT{GitHub}.", "https://github.com/Bekhouche/SegDT"),
        (
            "https://github.com/ChengyinLee/MulModSeg_2024{link}}.",
            "https://github.com/ChengyinLee/MulModSeg_2024",
        ),
        (
            "see https://github.com/xiaoyatang/DuoFormer.git.",
            "https://github.com/xiaoyatang/DuoFormer",
        ),
        ("(github.com/wasserth/TotalSegmentator)", "https://github.com/wasserth/TotalSegmentator"),
        ("https://github.com/dong845/MCP-MedSAM}.}", "https://github.com/dong845/MCP-MedSAM"),
        ("https://www.github.com/a/b, and", "https://github.com/a/b"),
        ("http://github.com/a/b_c\\_d;", "https://github.com/a/b_c_d"),
        (
            "https://github.com/a/b/blob/main/README.md.",
            "https://github.com/a/b/blob/main/README.md",
        ),
        ("https://github.com/orgs/x then https://github.com/a/b", "https://github.com/a/b"),
        ("the user page https://github.com/someone.", None),
        ("https://gitlab.com/a/b and notgithub.com/a/b", None),
        ("no links at all", None),
    ],
)
def test_repository_url(text: str, expected: str | None) -> None:
    assert repository_url(text) == expected


def test_the_first_repository_wins() -> None:
    text = "Data: https://github.com/a/data. Code: https://github.com/b/code."
    assert repository_url(text) == "https://github.com/a/data"


def test_arxiv_and_daily_pages() -> None:
    assert arxiv_url("2411.01234") == "https://arxiv.org/abs/2411.01234"
    assert daily_url("2411.01234") == "https://huggingface.co/papers/2411.01234"
    assert arxiv_url(None) is None
    assert daily_url(None) is None

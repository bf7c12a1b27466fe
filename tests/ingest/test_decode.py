"""Decoding: the encodings browsers produce are read; what is not text is refused with a reason."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from digest.errors import InputError
from digest.ingest.decode import decode_bytes, normalize_text
from tests.conftest import SAMPLE_DUMPS

TEXT = "Café – naïve “quotes” and ﬁne print\nsecond line\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16"),
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16"),
        (TEXT.encode("utf-32"), "utf-32"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-le", "utf-16-be", "utf-32"],
)
def test_unicode_encodings_with_their_marks(data: bytes, encoding: str) -> None:
    decoded = decode_bytes(data, source="s.txt", max_bytes=10_000)
    assert decoded.text == TEXT
    assert decoded.encoding == encoding
    assert decoded.warnings == ()
    assert not decoded.text.startswith("\ufeff")


def test_windows_1252_fallback_warns_and_names_the_byte() -> None:
    data = TEXT.replace("ﬁ", "fi").encode("cp1252")
    decoded = decode_bytes(data, source="s.txt", max_bytes=10_000)
    assert decoded.text == TEXT.replace("ﬁ", "fi")
    assert decoded.encoding == "cp1252"
    (warning,) = decoded.warnings
    assert warning.startswith("not valid UTF-8 (byte 3)")
    assert "Windows-1252" in warning


def test_bytes_windows_1252_leaves_undefined_become_u_fffd() -> None:
    decoded = decode_bytes(b"caf\xe9 \x81 ok\n", source="s.txt", max_bytes=100)
    assert decoded.text == "café \ufffd ok\n"
    assert decoded.encoding == "cp1252"


@pytest.mark.parametrize("dump", SAMPLE_DUMPS, ids=lambda path: path.stem)
def test_sample_dumps_are_plain_utf_8(dump: Path) -> None:
    data = dump.read_bytes()
    decoded = decode_bytes(data, source="s.txt", max_bytes=1_000_000)
    assert decoded.encoding == "utf-8"
    assert decoded.text == data.decode("utf-8")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b" \n\r\n\t \n", "empty file"),
        (b"x" * 101, "too large: 101 bytes, the limit is 100"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "NUL bytes"),
        ("plain text".encode("utf-16-le"), "NUL bytes"),  # UTF-16 without its mark
        (codecs.BOM_UTF16_LE + b"a\x00b", "invalid utf-16 after its byte-order mark"),
        (codecs.BOM_UTF8 + b"caf\xe9", "invalid utf-8-sig after its byte-order mark"),
        (bytes(range(1, 32)) * 3, "binary data: "),
    ],
    ids=[
        "empty",
        "blank",
        "too-large",
        "png",
        "utf-16-without-bom",
        "odd-utf-16",
        "bad-utf-8-after-bom",
        "controls",
    ],
)
def test_refused_with_the_source_and_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(InputError) as caught:
        decode_bytes(data, source="inbox/x.txt", max_bytes=100)
    assert caught.value.source == "inbox/x.txt"
    assert reason in caught.value.reason
    assert str(caught.value).startswith("inbox/x.txt: ")


def test_a_few_stray_controls_are_dropped_not_refused() -> None:
    decoded = decode_bytes(b"Title\x07 here\x1b\nabstract\x0c text\n", source="s", max_bytes=100)
    assert decoded.text == "Title here\nabstract  text\n"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a\r\nb\rc\n", "a\nb\nc\n"),
        ("a\u2028b\u2029c\u0085d", "a\nb\nc\nd"),
        ("no\u00a0break\u202fnarrow\u3000wide\tTab", "no break narrow wide Tab"),
        ("zero\u200bwidth\u200d soft\u00adhyphen\ufeff", "zerowidth softhyphen"),
        ("Cafe\u0301", "Café"),  # composed to NFC
        ("ﬁ stays ﬁ", "ﬁ stays ﬁ"),  # NFC, not NFKC: the text keeps its ligature
    ],
)
def test_normalize_text(raw: str, clean: str) -> None:
    assert normalize_text(raw) == clean

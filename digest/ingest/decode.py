"""Turn the bytes of a source into clean text, or refuse them with a reason.

Dumps are copied out of browsers on every platform, so they arrive with BOMs, CRLF, UTF-16,
legacy code pages and odd spaces; all of that is normalised here so the parsers see one shape.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

from digest.errors import InputError

# Every Unicode space that is not a plain space becomes one; zero-width characters vanish.
_SPACES = re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\t\f\v]")
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad]")
# C0/C1 controls other than newline: illegal in XML and never meaningful in a listing.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class DecodedText:
    """Text ready for a parser, and what decoding had to guess."""

    text: str
    encoding: str
    warnings: tuple[str, ...] = ()


def decode_bytes(data: bytes, *, source: str, max_bytes: int) -> DecodedText:
    """Decode a source's bytes, refusing empty, oversized and binary input."""
    if len(data) > max_bytes:
        raise InputError(source, f"too large: {len(data)} bytes, the limit is {max_bytes}")
    if not data.strip():
        raise InputError(source, "empty file")
    warnings: list[str] = []
    text, encoding = _decode(data, source=source, warnings=warnings)
    if "\x00" in text:
        raise InputError(source, "contains NUL bytes: binary data, not a text listing")
    # CR and NEL are line breaks here, not binary garbage.
    controls = len(_CONTROLS.findall(text.replace("\r", "").replace("\x85", "")))
    if controls > max(8, len(text) // 1000):
        raise InputError(source, f"binary data: {controls} control characters")
    return DecodedText(text=normalize_text(text), encoding=encoding, warnings=tuple(warnings))


def _decode(data: bytes, *, source: str, warnings: list[str]) -> tuple[str, str]:
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise InputError(
                    source, f"invalid {encoding} after its byte-order mark: {exc.reason}"
                ) from exc
    if b"\x00" in data[:4096]:
        raise InputError(source, "contains NUL bytes: binary data, not a text listing")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        # Windows-1252 covers what browsers on Windows produce; the five bytes it leaves
        # undefined become U+FFFD rather than failing the whole file.
        text = data.decode("cp1252", errors="replace")
        warnings.append(
            f"not valid UTF-8 (byte {exc.start}); decoded as Windows-1252, check accents"
        )
        return text, "cp1252"


def normalize_text(text: str) -> str:
    """Unify line endings and spaces, drop invisible characters, compose to NFC."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Unicode's other line breaks; NEL would otherwise be dropped as a control, gluing two lines.
    text = text.replace("\u2028", "\n").replace("\u2029", "\n").replace("\x85", "\n")
    text = _INVISIBLE.sub("", text)
    text = _SPACES.sub(" ", text)
    text = _CONTROLS.sub("", text)
    return unicodedata.normalize("NFC", text)

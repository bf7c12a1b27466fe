"""The sample digest renders to a PNG in headless Chromium, light and dark (marker `browser`).

Locally the test skips when no Chromium is installed; in CI (CI=true) it fails instead, because
CI installs Chromium and must not skip the browser tests silently.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import pytest
from benchmarks.screenshot_email import WINDOW, find_chromium, render_sample, screenshot


@pytest.fixture(scope="module")
def chromium() -> str:
    found = find_chromium()
    if found is None:
        message = "no chromium on PATH (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI=true: the browser tests must run", pytrace=False)
        pytest.skip(message)
    return found


def _top_brightness(png: bytes, *, rows: int = 8) -> float:
    """Mean RGB value of the image's top rows (the page background), decoding PNG filters."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    offset, data, width, channels = 8, b"", 0, 0
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind, body = png[offset + 4 : offset + 8], png[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            width, _, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8
            channels = {2: 3, 6: 4}[colour]
        elif kind == b"IDAT":
            data += body
        offset += 12 + length
    raw = zlib.decompressobj().decompress(data, (width * channels + 1) * rows)
    stride, previous, total = width * channels, bytearray(width * channels), 0
    for row in range(rows):
        kind, line = (
            raw[row * (stride + 1)],
            bytearray(raw[row * (stride + 1) + 1 : (row + 1) * (stride + 1)]),
        )
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + predictor) & 0xFF
        total += sum(v for i, v in enumerate(line) if i % channels < 3)
        previous = line
    return total / (rows * width * 3)


@pytest.mark.browser
def test_sample_digest_renders_to_light_and_dark_pngs(chromium: str, tmp_path: Path) -> None:
    html = tmp_path / "digest.html"
    mail = render_sample(html)
    assert html.read_text(encoding="utf-8") == mail.html
    shots = {}
    for scheme in ("light", "dark"):
        png = tmp_path / f"{scheme}.png"
        screenshot(html, png, chromium=chromium, dark=scheme == "dark")
        data = png.read_bytes()
        width, height = struct.unpack(">II", data[16:24])
        assert (width, height) == WINDOW
        assert 30_000 < len(data) < 2_000_000  # text, not a blank page
        shots[scheme] = _top_brightness(data)
    assert shots["light"] > 200  # #eef1f5
    assert shots["dark"] < 40  # #0d1117: the dark-mode rules apply


def test_committed_screenshots_stay_small() -> None:
    folder = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    for name in ("digest-light.png", "digest-dark.png"):
        size = (folder / name).stat().st_size
        assert 30_000 < size < 400_000, name

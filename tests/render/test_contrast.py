"""Text stays readable in both colour schemes: WCAG 2 contrast >= 4.5:1 for every text colour.

The colours are read from the email stylesheet itself (templates/email/email.css): the rules
outside @media are the light scheme; the rules inside `@media (prefers-color-scheme: dark)`
override them in the dark scheme.
"""

from __future__ import annotations

import re

import pytest

from digest.render.environment import STYLESHEET, default_templates_dir

MINIMUM = 4.5  # WCAG 2.x AA for body text
# (foreground selector, background selector): text colour and what it is drawn on.
PAIRS = [
    ("body", "body"),
    (".card", ".card"),
    (".brand-link", ".card"),
    (".heading", ".card"),
    (".summary", ".card"),
    (".title-link", ".card"),
    (".meta", ".card"),
    (".snippet", ".card"),
    (".links", ".card"),
    (".link", ".card"),
    (".more", ".card"),
    (".notice", ".card"),
    ("mark", "mark"),
    (".chip", ".chip"),
    (".chip-trending", ".chip-trending"),
    (".button", ".button"),
    (".footer", ".page"),
    (".footer-text", ".page"),
    (".footer-link", ".page"),
]
HIDDEN = {".preheader"}  # its text is never shown
Rules = dict[str, dict[str, str]]


def _stylesheet() -> str:
    css = (default_templates_dir() / STYLESHEET).read_text(encoding="utf-8")
    return re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)


def _media_blocks(css: str) -> list[tuple[str, str, int, int]]:
    """(condition, body, start, end) of each top-level @media block."""
    blocks = []
    for match in re.finditer(r"@media([^{]*)\{", css):
        depth, index = 1, match.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(css[index], 0)
            index += 1
        blocks.append((match.group(1).strip(), css[match.end() : index - 1], match.start(), index))
    return blocks


def _rules(css: str) -> Rules:
    rules: Rules = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        declarations = {}
        for declaration in body.split(";"):
            name, _, value = declaration.partition(":")
            if value.strip():
                declarations[name.strip()] = value.replace("!important", "").strip()
        for selector in selectors.split(","):
            rules.setdefault(selector.strip(), {}).update(declarations)
    return rules


def _schemes() -> tuple[Rules, Rules]:
    css = _stylesheet()
    blocks = _media_blocks(css)
    light_css = css
    for _, _, start, end in reversed(blocks):
        light_css = light_css[:start] + light_css[end:]
    dark_blocks = [
        body for condition, body, _, _ in blocks if "prefers-color-scheme: dark" in condition
    ]
    assert len(dark_blocks) == 1
    return _rules(light_css), _rules(dark_blocks[0])


def _colour(rules: Rules, selector: str, names: tuple[str, ...]) -> str | None:
    for name in names:
        if name in rules.get(selector, {}):
            return rules[selector][name]
    return None


def _luminance(colour: str) -> float:
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", colour), colour
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    """The WCAG 2 contrast ratio of two #rrggbb colours."""
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _pair_colours(scheme: str, fg: str, bg: str) -> tuple[str, str]:
    light, dark = _schemes()
    foreground = _colour(light, fg, ("color",))
    background = _colour(light, bg, ("background-color", "background"))
    if scheme == "dark":
        foreground = _colour(dark, fg, ("color",)) or foreground
        background = _colour(dark, bg, ("background-color", "background")) or background
    assert foreground, fg
    assert background, bg
    return foreground, background


def test_the_formula_matches_known_ratios() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("fg", "bg"), PAIRS)
def test_text_colours_have_enough_contrast(scheme: str, fg: str, bg: str) -> None:
    foreground, background = _pair_colours(scheme, fg, bg)
    ratio = contrast(foreground, background)
    assert ratio >= MINIMUM, f"{scheme}: {fg} {foreground} on {bg} {background} is {ratio:.2f}:1"


def test_every_text_colour_is_checked() -> None:
    light, dark = _schemes()
    coloured = {s for rules in (light, dark) for s, d in rules.items() if "color" in d} - HIDDEN
    assert coloured <= {fg for fg, _ in PAIRS}


def test_every_colour_changes_in_the_dark_scheme() -> None:
    light, dark = _schemes()
    for selector, declarations in light.items():
        if selector in HIDDEN or selector == "html":
            continue
        for name in ("color", "background-color"):
            if name in declarations:
                assert name in dark.get(selector, {}), f"{selector} {name} has no dark value"

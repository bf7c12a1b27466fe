"""The one Jinja environment: autoescape, StrictUndefined, and email CSS inlined once per template.

HTML email templates under `email/` are written as plain HTML with a shared stylesheet
(`email/email.css`). When Jinja loads such a template, the loader runs css-inline over the
source before Jinja compiles it, so every mail reuses the inlined result: the CSS cost is paid
once per template, never per mail. Only `@media` rules (dark mode, small screens) stay in a
`<style>` element. Jinja statements survive the HTML parser as comments, `<!--{% ... %}-->`,
unwrapped after inlining; `{{ ... }}` expressions survive as text and attribute values.
Templates whose name starts with `_` are fragments (a paper's block) and are inlined as such.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import css_inline
import jinja2
from markupsafe import Markup, escape

import digest
from digest.render import labels

EMAIL_FOLDER = "email"
STYLESHEET = "email/email.css"
_AUTOESCAPE = ("html", "htm", "xml", "html.j2", "htm.j2", "xml.j2")
# A statement or comment hidden from the HTML parser: <!--{% for x in y %}-->.
_WRAPPED = re.compile(r"<!--\s*(\{%.*?%\}|\{#.*?#\})\s*-->", re.DOTALL)
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_CHARSET = re.compile(r"<meta charset=\"[^\"]*\">\n?", re.IGNORECASE)
_ENTITY = re.compile(r"&(?:amp|lt|gt|quot|nbsp|#\d+);")


def default_templates_dir() -> Path:
    """`templates/` at the repository top, or the copy a wheel installs as digest/_templates."""
    package = Path(digest.__file__).resolve().parent
    source_tree = package.parent / "templates"
    return source_tree if source_tree.is_dir() else package / "_templates"


def make_environment(templates_dir: Path | None = None) -> jinja2.Environment:
    """The Jinja environment every surface renders with."""
    folder = templates_dir or default_templates_dir()
    css_file = folder / STYLESHEET
    stylesheet = css_file.read_text(encoding="utf-8") if css_file.is_file() else ""
    env = jinja2.Environment(
        loader=_InliningLoader(folder, stylesheet=stylesheet),
        autoescape=jinja2.select_autoescape(enabled_extensions=_AUTOESCAPE),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Templates change with a release, not while a process runs; skipping the mtime check
        # saves a stat() per get_template on the hot delivery path.
        auto_reload=False,
    )
    env.filters["highlighted"] = _highlighter(_mark_open(stylesheet))
    env.filters["days_label"] = labels.days_label
    env.filters["date_label"] = labels.date_label
    env.filters["counted"] = labels.counted
    env.filters["lines"] = _lines
    return env


class _InliningLoader(jinja2.FileSystemLoader):
    """Loads templates from a folder; inlines the email stylesheet into HTML email templates."""

    def __init__(self, folder: Path, *, stylesheet: str) -> None:
        super().__init__(str(folder))
        self._stylesheet = stylesheet
        self._inliner = css_inline.CSSInliner(
            keep_at_rules=True,
            keep_style_tags=False,
            load_remote_stylesheets=False,
            extra_css=stylesheet,
        )

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        source, filename, uptodate = super().get_source(environment, template)
        folder, _, name = template.rpartition("/")
        if folder != EMAIL_FOLDER or not name.endswith(".html"):
            return source, filename, uptodate
        if name.startswith("_"):
            inlined = self._inliner.inline_fragment(source, self._stylesheet)
        else:
            inlined = self._inliner.inline(source)
        unwrapped = _charset_first(_WRAPPED.sub(r"\1", inlined))
        _check_tags(unwrapped, template)
        return unwrapped, filename, uptodate


def _charset_first(source: str) -> str:
    """Move `<meta charset>` back to the top of <head>, where css-inline put the <style>:
    a browser opening the file looks for it in the first 1024 bytes."""
    match = _CHARSET.search(source)
    head = source.find("<head>")
    if match is None or head < 0 or match.start() < head:
        return source
    source = source[: match.start()] + source[match.end() :]
    at = head + len("<head>")
    return source[:at] + match.group() + source[at:]


def _check_tags(source: str, template: str) -> None:
    """Refuse Jinja code the HTML serializer rewrote (`"` in attributes, `<` `&` in text)."""
    for tag in _TAG.finditer(source):
        if _ENTITY.search(tag.group()):
            line = source.count("\n", 0, tag.start()) + 1
            raise jinja2.TemplateSyntaxError(
                "the HTML parser escaped characters of this Jinja code: use single quotes and "
                "no < > & inside {{ }}, and write statements as <!--{% ... %}-->",
                lineno=line,
                name=template,
            )


def _lines(value: str) -> Markup:
    """Text whose line breaks show in HTML (a postal address), escaped."""
    return Markup("<br>").join(escape(line) for line in value.splitlines())


def _mark_open(stylesheet: str) -> str:
    """The `<mark>` opening tag with the stylesheet's mark rule inlined."""
    inlined = css_inline.inline_fragment("<mark></mark>", stylesheet)
    return inlined.removesuffix("</mark>")


def _highlighter(mark_open: str) -> Callable[[str], Markup]:
    def highlighted(value: str) -> Markup:
        """Already-escaped HTML with <mark> highlights (an `_html` field), marks styled inline."""
        return Markup(value.replace("<mark>", mark_open))

    return highlighted

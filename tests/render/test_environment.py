"""The one environment: autoescape, StrictUndefined, CSS inlined once when a template loads."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from types import SimpleNamespace

import jinja2
import pytest

from digest.render.environment import make_environment
from tests.render.builders import Elements, digest_of, stored, view_of


def _templates(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "email.css").write_text(
        ".x { color: #111111; }\n"
        "@media (prefers-color-scheme: dark) { .x { color: #eeeeee !important; } }\n"
    )
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def test_autoescape_is_on_for_html_and_off_for_text(tmp_path: Path) -> None:
    folder = _templates(
        tmp_path,
        {
            "email/a.html": "<html><body><p>{{ v }}</p></body></html>",
            "email/a.txt": "{{ v }}",
            "page.html.j2": "{{ v }}",
        },
    )
    env = make_environment(folder)
    assert "&lt;b&gt;" in env.get_template("email/a.html").render(v="<b>")
    assert env.get_template("email/a.txt").render(v="<b>") == "<b>"
    assert env.get_template("page.html.j2").render(v="<b>") == "&lt;b&gt;"


def test_statements_survive_inlining_and_styles_are_inlined(tmp_path: Path) -> None:
    folder = _templates(
        tmp_path,
        {
            "email/list.html": (
                "<html><body><table><tbody><!--{% for item in items %}-->"
                '<tr><td class="x">{{ item }}</td></tr><!--{% endfor %}--></tbody></table>'
                "</body></html>"
            )
        },
    )
    html = make_environment(folder).get_template("email/list.html").render(items=["a", "b"])
    assert html.count('<td class="x" style="color: #111111;">') == 2
    assert "<!--" not in html
    assert "@media (prefers-color-scheme: dark)" in html


def test_jinja_code_the_html_parser_would_mangle_is_refused(tmp_path: Path) -> None:
    folder = _templates(
        tmp_path, {"email/bad.html": "<html><body><p>{{ 'x' if a < b else 'y' }}</p>"}
    )
    with pytest.raises(jinja2.TemplateSyntaxError, match="HTML parser escaped"):
        make_environment(folder).get_template("email/bad.html")


def test_web_templates_are_not_inlined(tmp_path: Path) -> None:
    folder = _templates(tmp_path, {"page.html": '<p class="x">{{ v }}</p>'})
    assert make_environment(folder).get_template("page.html").render(v=1) == '<p class="x">1</p>'


def test_strict_undefined_catches_a_missing_field(env: jinja2.Environment) -> None:
    view = digest_of((view_of(stored()),))
    fields = dataclasses.asdict(view)
    del fields["postal_address"]
    with pytest.raises(jinja2.UndefinedError, match="postal_address"):
        env.get_template("email/digest.html").render(view=SimpleNamespace(**fields), papers_html="")
    with pytest.raises(jinja2.UndefinedError):
        env.get_template("email/_paper.txt").render(paper=view.papers[0])  # no meta


@pytest.mark.parametrize("name", ["digest.html", "confirm.html", "welcome.html"])
def test_only_media_rules_stay_in_style(env: jinja2.Environment, name: str) -> None:
    source = env.loader.get_source(env, f"email/{name}")[0]  # type: ignore[union-attr]
    styles = "".join(Elements(source).styles)
    assert "@media (prefers-color-scheme: dark)" in styles
    outside = styles
    while "@media" in outside:  # drop each @media block, braces balanced
        start = outside.index("@media")
        depth, index = 0, outside.index("{", start)
        while True:
            depth += {"{": 1, "}": -1}.get(outside[index], 0)
            index += 1
            if depth == 0:
                break
        outside = outside[:start] + outside[index:]
    assert outside.strip() == ""


@pytest.mark.parametrize("name", ["digest.html", "confirm.html", "welcome.html"])
def test_documents_declare_language_colour_schemes_and_presentation_tables(
    env: jinja2.Environment, name: str
) -> None:
    source = env.loader.get_source(env, f"email/{name}")[0]  # type: ignore[union-attr]
    doc = Elements(source)
    assert doc.all("html")[0]["lang"] == "en"
    assert 0 < source.find('<meta charset="utf-8">') < 1024  # where browsers look for it
    assert "color-scheme: light dark" in doc.all("html")[0]["style"]
    metas = {attrs.get("name"): attrs.get("content") for attrs in doc.all("meta")}
    assert metas["color-scheme"] == "light dark"
    assert doc.all("table")
    assert all(table["role"] == "presentation" for table in doc.all("table"))
    assert not doc.all("img")  # nothing to lose with images off
    styled = [attrs for _, attrs in doc.tags if "style" in attrs]
    assert any(re.search(r"background-color: #ffffff", attrs["style"]) for attrs in styled)


def test_css_is_inlined_once_per_template_not_per_mail(tmp_path: Path) -> None:
    folder = _templates(tmp_path, {"email/one.html": '<html><body><p class="x">{{ v }}</p>'})
    env = make_environment(folder)
    loads: list[str] = []
    original = env.loader.get_source  # type: ignore[union-attr]

    def counting(environment: jinja2.Environment, name: str) -> tuple[str, str | None, object]:
        loads.append(name)
        return original(environment, name)

    env.loader.get_source = counting  # type: ignore[method-assign, union-attr, assignment]
    rendered = [env.get_template("email/one.html").render(v=n) for n in range(5)]
    assert loads == ["email/one.html"]
    assert all('style="color: #111111;"' in html for html in rendered)


def test_a_folder_without_email_stylesheet_still_renders(tmp_path: Path) -> None:
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "n.html").write_text('<html><body><p class="x">{{ v }}</p>')
    html = make_environment(tmp_path).get_template("email/n.html").render(v="<i>")
    assert '<p class="x">&lt;i&gt;</p>' in html

"""Confirmation (double opt-in) and welcome mails."""

from __future__ import annotations

import jinja2
import pytest

from digest.render.digest import render_notice
from tests.render.builders import BASE_URL, Elements, notice

CONFIRM = f"{BASE_URL}/confirm/confirm-token"


def test_confirm_mail_has_the_link_its_expiry_and_how_to_ignore_it(
    env: jinja2.Environment,
) -> None:
    mail = render_notice(env, notice(expires_hours=48), kind="confirm")
    doc = Elements(mail.html)
    text = doc.visible_text()
    assert mail.subject == "Confirm your subscription"
    assert doc.hrefs().count(CONFIRM) == 2  # the button and the plain link
    assert CONFIRM in mail.text
    for part in (text, " ".join(mail.text.split())):
        assert "expires in 48 hours" in part
        assert "If you did not ask for this, ignore this mail" in part
        assert "12345 Science City" in part
        assert "someone entered ada@example.org" in part
    assert "Unsubscribe" not in text  # nothing to unsubscribe from yet


def test_welcome_mail_links_the_manage_page_and_the_feed(env: jinja2.Environment) -> None:
    view = notice(
        subject="Welcome",
        action_url=f"{BASE_URL}/manage/manage-token",
        unsubscribe_url=f"{BASE_URL}/unsubscribe/unsubscribe-token",
        feed_url=f"{BASE_URL}/feeds/feed-token.atom",
        expires_hours=0,
    )
    mail = render_notice(env, view, kind="welcome")
    hrefs = Elements(mail.html).hrefs()
    for url in (view.action_url, view.unsubscribe_url, view.feed_url, BASE_URL):
        assert url in hrefs
        assert url in mail.text
    assert "ada@example.org is confirmed" in mail.text
    assert "Example Lab" in mail.text
    assert "Example Lab" in mail.html


def test_notices_escape_what_they_show(env: jinja2.Environment) -> None:
    mail = render_notice(env, notice(email="<script>x</script>@example.org"), kind="confirm")
    assert "<script>" not in mail.html
    assert "&lt;script&gt;x&lt;/script&gt;@example.org" in mail.html


def test_an_unknown_kind_is_refused(env: jinja2.Environment) -> None:
    with pytest.raises(ValueError, match="unknown notice kind"):
        render_notice(env, notice(), kind="goodbye")  # type: ignore[arg-type]

"""build_message: structure, headers, RFC 2047, injection and line limits, read back by `email`."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timedelta, timezone
from email.header import decode_header, make_header
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.deliver.mailer import OutgoingMessage
from digest.deliver.message import check_address, clean_text, make_message_id
from tests.deliver.conftest import DATE, mail, message_for


def parse(message: OutgoingMessage) -> EmailMessage:
    parsed = email.message_from_bytes(message.data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def parts(parsed: EmailMessage) -> list[EmailMessage]:
    return list(parsed.iter_parts())  # type: ignore[arg-type]


def body_text(part: EmailMessage) -> str:
    """A part's decoded text with the CRLF line ends of the wire turned back into \\n."""
    content = part.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


def raw_header(message: OutgoingMessage, name: str) -> str:
    """The header as it is on the wire, folding included."""
    parsed = email.message_from_bytes(message.data, policy=email.policy.compat32)
    values = parsed.get_all(name) or []
    assert len(values) == 1, f"{name}: {values}"
    return str(values[0])


def lines(message: OutgoingMessage) -> list[bytes]:
    assert message.data.endswith(b"\r\n")
    return message.data[:-2].split(b"\r\n")


# --- structure --------------------------------------------------------------------------------


def test_a_digest_has_every_required_header_once_and_two_parts_text_first() -> None:
    message = message_for("reader@example.com", key=42)
    parsed = parse(message)

    for name in ("From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "List-Id"):
        assert len(parsed.get_all(name) or []) == 1, name
    assert parsed["From"].addresses[0].addr_spec == "digest@example.org"
    assert parsed["From"].addresses[0].display_name == "digest"
    assert parsed["To"].addresses[0].addr_spec == "reader@example.com"
    assert parsed["Message-ID"] == "<digest.42.7@example.org>"
    assert parsed["Date"].datetime == DATE
    assert parsed["MIME-Version"] == "1.0"
    assert parsed["List-Id"] == "digest <digest.example.org>"
    assert parsed["List-Unsubscribe"] == (
        "<https://example.org/unsubscribe/TOKEN123>, "
        "<mailto:unsubscribe@example.org?subject=unsubscribe>"
    )
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed.get_content_type() == "multipart/alternative"
    text, html = parts(parsed)
    assert text.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    for part in (text, html):
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] in {"quoted-printable", "base64"}
    assert parsed.defects == []
    assert all(part.defects == [] for part in parsed.walk())
    assert (message.sender, message.recipient, message.key) == (
        "digest@example.org",
        "reader@example.com",
        42,
    )
    assert message.message_id == "<digest.42.7@example.org>"


def test_every_line_ends_in_crlf() -> None:
    message = message_for(rendered=mail(text="a\nb\rc\r\nd", html="<p>\n</p>\r"))
    assert b"\n" not in message.data.replace(b"\r\n", b"")
    assert b"\r" not in message.data.replace(b"\r\n", b"")


def test_bodies_decode_to_the_rendered_text_exactly() -> None:
    html = (
        '<p>Schrödinger — ≤ 5 µs ∑ 学习 🔥</p>\n<a href="https://x.org/?a=1&amp;b=2">x</a>  \n\tend'
    )
    text = "Schrödinger — ≤ 5 µs ∑ 学习 🔥\nline with trailing spaces   \n.\nFrom here\n=_ =3D ?="
    text_part, html_part = parts(parse(message_for(rendered=mail(html=html, text=text))))
    assert body_text(text_part) == text
    assert body_text(html_part) == html


def test_mostly_non_latin_bodies_are_base64_and_decode_exactly() -> None:
    text = "深度学习的注意力机制研究。" * 400
    message = message_for(rendered=mail(text=text, html=f"<p>{text}</p>"))
    text_part, html_part = parts(parse(message))
    assert text_part["Content-Transfer-Encoding"] == "base64"
    assert body_text(text_part) == text
    assert body_text(html_part) == f"<p>{text}</p>"
    assert max(len(line) for line in lines(message)) <= 78


def test_mostly_ascii_bodies_are_quoted_printable() -> None:
    rendered = mail(text="A paper on équivariance.", html='<p class="x">On équivariance</p>')
    text_part, html_part = parts(parse(message_for(rendered=rendered)))
    assert text_part["Content-Transfer-Encoding"] == "quoted-printable"
    assert html_part["Content-Transfer-Encoding"] == "quoted-printable"


def test_the_boundary_never_occurs_in_a_body() -> None:
    parsed = parse(message_for(key=5))
    boundary = parsed.get_boundary()
    assert boundary is not None
    hostile = f"--{boundary}\n--{boundary}--\n{boundary}"
    message = message_for(rendered=mail(text=hostile, html=hostile), key=5)
    # Only the two delimiters and the closing one start a line with "--" and the boundary.
    assert message.data.count(b"\r\n--" + boundary.encode()) == 3
    text_part, html_part = parts(parse(message))
    assert body_text(text_part) == hostile
    assert body_text(html_part) == hostile


def test_a_5000_character_line_is_wrapped_and_no_line_passes_998_octets() -> None:
    url = "https://example.org/p?" + "q=%C3%A9&" * 550
    html = f'<p><a href="{url}">{"é" * 3000}</a></p>'
    message = message_for(
        rendered=mail(html=html, text=url),
        unsubscribe_url="https://example.org/unsubscribe/" + "T" * 700,
    )
    assert max(len(line) for line in lines(message)) <= 998
    assert max(len(line) for line in lines(message)[20:]) <= 76  # the bodies
    text_part, html_part = parts(parse(message))
    assert body_text(html_part) == html
    assert body_text(text_part) == url


def test_an_unsubscribe_url_that_cannot_fit_a_header_line_is_refused() -> None:
    with pytest.raises(ValueError, match="998"):
        message_for(unsubscribe_url="https://example.org/u/" + "T" * 1000)


def test_the_same_inputs_build_the_same_bytes() -> None:
    assert message_for(key=3).data == message_for(key=3).data


def test_message_ids_are_fixed_per_subscriber_and_edition() -> None:
    assert make_message_id(12, 345, domain="example.org") == "<digest.12.345@example.org>"
    assert make_message_id(12, 345, domain="example.org") == make_message_id(
        12, 345, domain="example.org"
    )
    assert make_message_id(12, 346, domain="example.org") != make_message_id(
        12, 345, domain="example.org"
    )
    assert make_message_id(1, 2, domain="bücher.de") == "<digest.1.2@xn--bcher-kva.de>"
    with pytest.raises(ValueError):
        make_message_id(1, 2, domain="example.org>\r\nBcc: x@y")


def test_the_date_keeps_its_offset_and_must_have_one() -> None:
    plus_two = DATE.astimezone(timezone(timedelta(hours=2)))
    assert parse(message_for(date=plus_two))["Date"].datetime == plus_two
    with pytest.raises(ValueError, match="time zone"):
        message_for(date=datetime(2026, 11, 24, 6, 0))


def test_a_bare_unsubscribe_address_becomes_a_mailto_url() -> None:
    parsed = parse(message_for(unsubscribe_mailto="leave@example.org"))
    assert parsed["List-Unsubscribe"].endswith("<mailto:leave@example.org>")


def test_recipient_domains_are_idna_encoded() -> None:
    message = message_for("leser@bücher.de")
    assert message.recipient == "leser@xn--bcher-kva.de"
    assert parse(message)["To"].addresses[0].domain == "xn--bcher-kva.de"


# --- RFC 2047 -------------------------------------------------------------------------------

SUBJECTS = [
    "Your digest: 3 new papers",
    "Résumé: équivariance, naïve Bayes, Gödel — and “quotes”",
    "🔥 Trending: 👩‍🔬 diffusion models 🚀",
    "深度学习 · 注意力机制 · 대규모 언어 모델 · 大規模言語モデル",
    "Über" + " sehr lange Betreffzeilen mit Umlauten äöü" * 12,
    "A plain ASCII subject that is long enough to need folding," * 6,
    "A title with =?utf-8?q?not_an_encoded_word?= inside",
    'Underscores_and ?question= marks "quoted" (comment) <angle> a@b.c',
    "x" * 200,
    "é",
]


@pytest.mark.parametrize("subject", SUBJECTS)
def test_subjects_decode_back_exactly(subject: str) -> None:
    message = message_for(rendered=mail(subject=subject))
    assert parse(message)["Subject"] == subject
    raw = raw_header(message, "Subject")
    assert str(make_header(decode_header(raw))).replace("\r\n", "") == subject
    for line in message.data.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        assert len(line) <= 78
        assert line.isascii()


def test_non_ascii_subjects_are_encoded_words_of_at_most_75_characters() -> None:
    message = message_for(rendered=mail(subject=SUBJECTS[4]))
    raw = raw_header(message, "Subject")
    words = raw.split()
    assert len(words) > 3  # folded over several lines
    assert all(word.startswith("=?utf-8?") and len(word) <= 75 for word in words)


def sender_named(name: str) -> str:
    """`name <digest@example.org>`, the name quoted as a person would write it in the settings."""
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}" <digest@example.org>' if name else "digest@example.org"


def display_name_on_the_wire(message: OutgoingMessage) -> str:
    """The From display name decoded as RFC 2047 says (whitespace between encoded-words dropped)."""
    unfolded = raw_header(message, "From").replace("\r\n", "").replace("\n", "")
    phrase = unfolded.rpartition(" <")[0]
    if "=?" in phrase:
        return str(make_header(decode_header(phrase)))
    address = parse(message)["From"].addresses[0]
    return str(address.display_name)


@pytest.mark.parametrize(
    "name",
    [
        "Dïgest",
        "Digest, the daily",
        'The "Daily" Digest \\o/',
        "研究ダイジェスト 🔥",
        "a" * 70,
        "A very long plain name " * 5,
        "Dïgest Bot",
    ],
)
def test_short_display_names_decode_back_exactly(name: str) -> None:
    name = name.strip()
    message = message_for(sender=sender_named(name), service_name=name)
    parsed = parse(message)
    address = parsed["From"].addresses[0]
    assert (address.display_name, address.addr_spec) == (name, "digest@example.org")
    assert parsed["List-Id"].endswith(" <digest.example.org>")
    list_name = parsed["List-Id"].removesuffix(" <digest.example.org>")
    assert list_name in {name, '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'}
    assert display_name_on_the_wire(message) == name


def test_long_non_ascii_display_names_are_valid_encoded_words() -> None:
    name = "Ежедневный дайджест научных статей по машинному обучению"
    message = message_for(sender=sender_named(name))
    assert display_name_on_the_wire(message) == name
    words = raw_header(message, "From").split()
    assert all(len(word) <= 75 for word in words)
    assert max(len(line) for line in lines(message)) <= 78


@settings(max_examples=300, deadline=None)
@given(subject=st.text(max_size=300), name=st.text(max_size=80))
def test_any_subject_and_name_come_back_as_their_cleaned_text(subject: str, name: str) -> None:
    try:
        message = message_for(rendered=mail(subject=subject), sender=sender_named(name))
    except ValueError:
        assert any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F or c in "\u2028\u2029" for c in name)
        return
    assert parse(message)["Subject"] == clean_text(subject)
    assert display_name_on_the_wire(message) == clean_text(name)
    head = message.data.split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in head.split(b"\r\n")) <= 78


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=2000), html=st.text(max_size=2000))
def test_any_body_decodes_back_exactly(text: str, html: str) -> None:
    message = message_for(rendered=mail(text=text, html=html))
    text_part, html_part = parts(parse(message))
    expected = [t.replace("\r\n", "\n").replace("\r", "\n") for t in (text, html)]
    assert [body_text(text_part), body_text(html_part)] == expected
    assert max(len(line) for line in lines(message)) <= 78


# --- header injection -----------------------------------------------------------------------

INJECTIONS = [
    "Hi\r\nBcc: evil@example.com",
    "Hi\nBcc: evil@example.com",
    "Hi\rBcc: evil@example.com",
    "Hi\r\n\r\n<html>body</html>",
    "Hi\u2028Bcc: evil@example.com",
    "Hi\x85Bcc: evil@example.com",
    "Hi\x00\x0bBcc:\x0c evil@example.com",
]


@pytest.mark.parametrize("value", INJECTIONS)
def test_line_breaks_in_a_subject_never_make_a_header(value: str) -> None:
    parsed = parse(message_for(rendered=mail(subject=value)))
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == clean_text(value)
    assert "\n" not in parsed["Subject"]
    assert parsed["Subject"].startswith("Hi ")
    assert len(parts(parsed)) == 2


@pytest.mark.parametrize("value", INJECTIONS)
def test_line_breaks_in_names_never_make_a_header(value: str) -> None:
    parsed = parse(message_for(service_name=value))
    assert parsed["Bcc"] is None
    assert parsed["List-Id"] == f'"{clean_text(value)}" <digest.example.org>'


@pytest.mark.parametrize(
    "address",
    [
        "reader@example.com\r\nBcc: evil@example.com",
        "reader@example.com\nBcc: evil@example.com",
        "reader@example.com\r",
        "Reader <reader@example.com>",
        "reader@example.com, evil@example.com",
        "reader",
        "@example.com",
        "reader@",
        "réader@example.com",
        "reader@exa mple.com",
        "reader@[127.0.0.1]",
    ],
)
def test_unsafe_recipient_addresses_are_refused(address: str) -> None:
    with pytest.raises(ValueError):
        message_for(address)
    with pytest.raises(ValueError):
        check_address(address)


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("sender", "digest <digest@example.org>\r\nBcc: evil@example.com"),
        ("sender", "Evil\r\nBcc: evil@example.com <digest@example.org>"),
        ("sender", "not an address"),
        ("message_id", "<digest.1.2@example.org>\r\nBcc: evil@example.com"),
        ("message_id", "digest.1.2@example.org"),
        ("list_id", "digest.example.org\r\nBcc: evil@example.com"),
        ("list_id", "digest example"),
        ("unsubscribe_url", "https://example.org/u/T\r\nBcc: evil@example.com"),
        ("unsubscribe_url", "https://example.org/u/T>, <https://evil.example"),
        ("unsubscribe_url", "javascript:alert(1)"),
        ("unsubscribe_mailto", "mailto:u@example.org\nBcc: evil@example.com"),
    ],
)
def test_unsafe_header_arguments_are_refused(argument: str, value: str) -> None:
    with pytest.raises(ValueError):
        message_for(**{argument: value})  # type: ignore[arg-type]


def test_clean_text_folds_controls_and_runs_of_blanks_to_one_space() -> None:
    assert clean_text("  a\r\n\tb \x00 c\u2029  ") == "a b c"
    assert clean_text("non\u00a0breaking") == "non\u00a0breaking"

"""Bodies handed over in pieces: the shared blocks' cached encodings give the same bytes."""

from __future__ import annotations

import dataclasses
import email
import email.policy
from email.message import EmailMessage

from hypothesis import given, settings
from hypothesis import strategies as st

from digest.deliver.mailer import OutgoingMessage
from digest.render.view import BodyParts, RenderedMail
from tests.deliver.conftest import message_for

# Lines that exercise every rule of quoted-printable: long lines (soft breaks at 76), "=",
# non-ASCII, trailing blanks and tabs, a lone dot, bare CR, CRLF.
LINE = st.text(
    alphabet=st.sampled_from([*"ab =.\t\r", "é", "学", "🔥", "\u2028", "\x00"]), max_size=200
)
PIECE = st.lists(LINE, min_size=1, max_size=4).map(lambda lines: "\n".join(lines) + "\n")


def with_parts(html: BodyParts, text: BodyParts) -> RenderedMail:
    def whole(parts: BodyParts) -> str:
        return parts.start + "".join(parts.blocks) + parts.end

    return RenderedMail(
        subject="Pieces", html=whole(html), text=whole(text), html_parts=html, text_parts=text
    )


def without_parts(rendered: RenderedMail) -> RenderedMail:
    return dataclasses.replace(rendered, html_parts=None, text_parts=None)


def bodies(message: OutgoingMessage) -> list[str]:
    parsed = email.message_from_bytes(message.data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    found = []
    for part in parsed.iter_parts():
        assert isinstance(part, EmailMessage)
        content = part.get_content()
        assert isinstance(content, str)
        found.append(content.replace("\r\n", "\n"))
    return found


def wire_text(body: str) -> str:
    return body.replace("\r\n", "\n").replace("\r", "\n")


@settings(max_examples=300, deadline=None)
@given(
    start=PIECE | st.just(""),
    blocks=st.lists(PIECE, max_size=5),
    end=LINE,
    text_blocks=st.lists(PIECE, max_size=3),
)
def test_pieces_encode_to_the_bytes_of_the_whole_body(
    start: str, blocks: list[str], end: str, text_blocks: list[str]
) -> None:
    rendered = with_parts(
        BodyParts(start, tuple(blocks), end), BodyParts("", tuple(text_blocks), end)
    )
    built = message_for(rendered=rendered)
    assert built.data == message_for(rendered=without_parts(rendered)).data
    assert bodies(built) == [wire_text(rendered.text), wire_text(rendered.html)]


def test_a_block_shared_by_two_mails_is_reused_and_both_decode_exactly() -> None:
    block = "<p>Schrödinger " + "x=1 " * 40 + "</p>  \n.\n"
    first = with_parts(BodyParts("<html>\n", (block,), "</html>"), BodyParts("", (), "t"))
    second = with_parts(BodyParts("<body>\n", (block, block), "end\n"), BodyParts("", (), "t"))
    for rendered in (first, second):
        built = message_for(rendered=rendered)
        assert built.data == message_for(rendered=without_parts(rendered)).data
        assert bodies(built)[1] == rendered.html


def test_mostly_non_latin_pieces_still_become_base64() -> None:
    block = "深度学习的注意力机制研究。\n" * 50
    rendered = with_parts(BodyParts("<p>\n", (block, block), "</p>"), BodyParts("", (), "t"))
    built = message_for(rendered=rendered)
    assert b"Content-Transfer-Encoding: base64" in built.data
    assert built.data == message_for(rendered=without_parts(rendered)).data
    assert bodies(built)[1] == rendered.html


def test_pieces_that_do_not_make_the_body_are_ignored() -> None:
    parts = BodyParts("<p>\n", ("<b>other</b>\n",), "</p>")
    rendered = RenderedMail(subject="x", html="<p>\n<b>real</b>\n</p>", text="t", html_parts=parts)
    assert bodies(message_for(rendered=rendered))[1] == rendered.html


def test_pieces_cut_inside_a_line_are_encoded_as_one_body() -> None:
    # Encoded apart, neither half of the 100-character line would get its soft line break.
    parts = BodyParts("<p>" + "a" * 50, ("b" * 50 + "\n",), "</p>")
    html = "<p>" + "a" * 50 + "b" * 50 + "\n</p>"
    rendered = RenderedMail(subject="x", html=html, text="t", html_parts=parts)
    built = message_for(rendered=rendered)
    assert built.data == message_for(rendered=without_parts(rendered)).data
    assert bodies(built)[1] == rendered.html

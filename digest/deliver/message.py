"""A digest as a MIME message: headers, multipart/alternative (text, then HTML), CRLF, 7-bit.

Built by hand rather than with `email.message.EmailMessage`, which costs about 8 times as much:
on a 60 KB HTML + 15 KB text digest, 3.9 ms of CPU against 0.54 ms here (shared 2-core dev
machine under load; scaled to the 2.6 ms measured unloaded, about 0.35 ms). Four fifths of that is
`binascii.b2a_qp`, the fastest quoted-printable encoder the standard library has. The tests
parse every shape of message built here with `email.message_from_bytes(policy=
email.policy.default)` and compare headers and decoded bodies with the input.

Most of a digest is paper blocks that other subscribers' digests show too. When the renderer
hands a body over in pieces (`RenderedMail.html_parts`, `text_parts`), each shared block is
encoded once and its encoding reused: quoted-printable encodes line by line, so the encodings
of pieces that each end with a line break, joined, are the bytes of encoding the whole body
(tests/deliver/test_message_parts.py checks both agree). A 40 KB + 10 KB digest then takes
about 0.2 ms of CPU instead of 0.45 ms over a real run, 0.12 ms when every block was encoded
before (benchmarks/deliver.py).

What makes the hand-built form safe:
- every header value is checked or cleaned first: addresses, URLs, ids and the List-Id are
  refused (ValueError) when they hold a line break, a control character or anything outside
  their syntax; free text (subject, display names) has control characters and line breaks
  turned into spaces, so nothing reaching a header can start a header of its own;
- free text that is not plain short ASCII becomes RFC 2047 encoded-words (Q or B, whichever is
  shorter), split on character boundaries, so it decodes back exactly;
- bodies are UTF-8 in quoted-printable, or base64 when that is smaller (text mostly in
  non-Latin scripts): lines of at most 76 octets either way. Base64 would be twice as fast
  but makes mostly-ASCII HTML a third larger, and Gmail clips messages past ~102 KB;
- the boundary starts with "=_", which neither encoding can ever produce.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parseaddr

from digest.deliver.mailer import OutgoingMessage
from digest.render.view import BodyParts, RenderedMail

_MAX_LINE = 78  # RFC 5322 SHOULD; encoded-words and folding keep every header line within it
_HARD_LIMIT = 998  # RFC 5322 MUST, octets per line without CRLF

# C0/C1 controls, DEL and the Unicode line/paragraph separators: none may reach a header.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_BLANKS = re.compile("[ \t]+")
_SURROGATE = re.compile("[\ud800-\udfff]")
# RFC 5322 atext: a display name made of these (and spaces) needs no quoting.
_ATEXT_PHRASE = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]*")
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*")
_DOMAIN = re.compile(
    r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*"
)
_URL = re.compile(r"[!#-;=?-~]+")  # printable ASCII without space, '"', '<' and '>'
_MESSAGE_ID = re.compile(r"<[!#-;=?-~]+@[!#-;=?-~]+>")

# Characters a Q encoded-word may carry as themselves, in any header position (RFC 2047 5(3)).
_Q_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
_Q_BYTE = {b: (chr(b) if b in _Q_SAFE else f"={b:02X}") for b in range(256)}
_Q_BYTE[0x20] = "_"
_Q_LITERAL = bytes(b for b in range(256) if len(_Q_BYTE[b]) == 1)  # one character in Q
_EW_OVERHEAD = len("=?utf-8?q?") + len("?=")
_EW_MAX = 75  # RFC 2047: an encoded-word is at most 75 characters
_QP_ESCAPED = bytes(range(128, 256))
# Encoded paper blocks kept for reuse: the renderer's block cache (render/digest.py) holds an
# HTML and a text block per entry, so twice its size keeps the encodings of all of them.
PIECE_CACHE_SIZE = 16_384


def make_message_id(subscriber_id: int, edition_id: int, *, domain: str) -> str:
    """The Message-ID of one (subscriber, edition) digest: the same on every retry."""
    return f"<digest.{int(subscriber_id)}.{int(edition_id)}@{_check_domain(domain)}>"


def build_message(
    rendered: RenderedMail,
    *,
    sender: str,
    recipient: str,
    message_id: str,
    date: datetime,
    list_id: str,
    unsubscribe_url: str,
    unsubscribe_mailto: str,
    service_name: str,
    key: int = 0,
) -> OutgoingMessage:
    """The finished message (CRLF bytes and envelope); ValueError for an unsafe address or id."""
    from_name, from_addr = _split_sender(sender)
    to_addr = check_address(recipient)
    if _MESSAGE_ID.fullmatch(message_id) is None:
        raise ValueError(f"message id {message_id!r} is not <local@domain>")
    if date.tzinfo is None or date.utcoffset() is None:
        raise ValueError("the Date of a message needs a time zone")
    if _DOT_ATOM.fullmatch(list_id) is None:
        raise ValueError(f"list id {list_id!r} is not a domain-like name")
    web_url = _check_url(unsubscribe_url, schemes=("https://", "http://"))
    if not unsubscribe_mailto.startswith("mailto:"):
        unsubscribe_mailto = "mailto:" + unsubscribe_mailto
    mailto = _check_url(unsubscribe_mailto, schemes=("mailto:",))

    boundary = "=_" + hashlib.sha256(message_id.encode("ascii")).hexdigest()[:30]
    head = [
        "Date: " + format_datetime(date),
        _address_header("From", from_name, from_addr),
        "To: " + to_addr,
        _unstructured_header("Subject", rendered.subject),
        "Message-ID: " + message_id,
        "MIME-Version: 1.0",
        _list_id_header(service_name, list_id),
        _fold_list("List-Unsubscribe", [f"<{web_url}>", f"<{mailto}>"]),
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        "Auto-Submitted: auto-generated",
        # Exchange/Outlook honour this rather than Auto-Submitted: no out-of-office replies.
        "X-Auto-Response-Suppress: All",
        f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"',
    ]
    header = "\r\n".join(head)
    if any(len(line) > _HARD_LIMIT for line in header.split("\r\n")):
        raise ValueError("a header line would exceed 998 octets (an unsubscribe URL too long?)")
    delimiter = b"\r\n--" + boundary.encode("ascii")
    text_cte, text_body = _encode_body(rendered.text, parts=rendered.text_parts)
    html_cte, html_body = _encode_body(rendered.html, parts=rendered.html_parts)
    data = b"".join(
        (
            header.encode("ascii"),
            b"\r\n",
            delimiter,
            b"\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: ",
            text_cte,
            b"\r\n\r\n",
            text_body,
            delimiter,
            b"\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: ",
            html_cte,
            b"\r\n\r\n",
            html_body,
            delimiter,
            b"--\r\n",
        )
    )
    return OutgoingMessage(
        message_id=message_id, sender=from_addr, recipient=to_addr, data=data, key=key
    )


def check_address(address: str) -> str:
    """The address as an ASCII addr-spec (IDNA domain); ValueError if it could break a header."""
    if _CONTROL.search(address):
        raise ValueError(f"address {address!r} contains a line break or control character")
    local, at, domain = address.rpartition("@")
    if not at or not local or _DOT_ATOM.fullmatch(local) is None:
        raise ValueError(f"address {address!r} is not a plain local@domain address")
    if len(address) > 254:
        raise ValueError(f"address {address[:40]!r}... is longer than 254 characters")
    return f"{local}@{_check_domain(domain)}"


def clean_text(value: str) -> str:
    """Header-safe free text: line breaks and control characters become single spaces."""
    value = _SURROGATE.sub("\ufffd", value)
    return _BLANKS.sub(" ", _CONTROL.sub(" ", value)).strip(" ")


def _check_domain(domain: str) -> str:
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise ValueError(f"domain {domain!r} cannot be IDNA-encoded") from exc
    if len(domain) > 253 or _DOMAIN.fullmatch(domain) is None:
        raise ValueError(f"domain {domain!r} is not a host name")
    return domain


def _check_url(url: str, *, schemes: tuple[str, ...]) -> str:
    if _URL.fullmatch(url) is None:
        raise ValueError(f'URL {url!r} holds spaces, control characters or <>"; percent-encode')
    if not url.startswith(schemes):
        raise ValueError(f"URL {url!r} must start with one of {', '.join(schemes)}")
    return url


@functools.lru_cache(maxsize=64)  # one sender per deployment: parseaddr is ~15 us a message
def _split_sender(sender: str) -> tuple[str, str]:
    if _CONTROL.search(sender):
        raise ValueError(f"sender {sender!r} contains a line break or control character")
    name, addr = parseaddr(sender)
    if not addr:
        raise ValueError(f"sender {sender!r} is not an address")
    return clean_text(name), check_address(addr)


def _address_header(name: str, display: str, addr: str) -> str:
    """`Name: display <addr>`: the name as atoms, a quoted string, or encoded-words."""
    if not display:
        return f"{name}: {addr}"
    if display.isascii() and "=?" not in display:
        if _ATEXT_PHRASE.fullmatch(display) is None:
            display = '"' + display.replace("\\", "\\\\").replace('"', '\\"') + '"'
        # Folding at a space, inside a quoted string too, unfolds to the same name.
        return _fold_words(f"{name}:", f"{display} <{addr}>".split(" "))
    # One encoded-word per line and the address after the last: Python's own parser keeps the
    # folding space between two encoded-words of a display name (RFC 2047 6.2 says to drop
    # it), so only names longer than one encoded-word (~50 accented or ~20 CJK characters)
    # read back with a space too many there.
    header = f"{name}: " + "\r\n ".join(_encoded_words(display, first=len(name) + 2))
    last_line = header.rpartition("\n")[2]
    fits = len(last_line) + len(addr) + 3 <= _MAX_LINE
    return header + (" " if fits else "\r\n ") + f"<{addr}>"


def _fold_words(start: str, words: list[str]) -> str:
    """`start word word ...`, a line break before a space wherever a line would pass 78."""
    lines = [start]
    for word in words:
        if len(lines[-1]) + 1 + len(word) > _MAX_LINE and lines[-1] != start:
            lines.append("")
        lines[-1] += " " + word
    return "\r\n".join(lines)


@functools.lru_cache(maxsize=64)
def _list_id_header(service_name: str, list_id: str) -> str:
    phrase = clean_text(service_name)
    return _address_header("List-Id", phrase, list_id)


def _unstructured_header(name: str, value: str) -> str:
    """`Name: value`, folded at spaces when plain ASCII fits, else as encoded-words."""
    text = clean_text(value)
    if text.isascii() and "=?" not in text:
        header = _fold_words(f"{name}:", text.split(" "))
        if all(len(line) <= _MAX_LINE for line in header.split("\r\n")):
            return header
    return f"{name}: " + "\r\n ".join(_encoded_words(text, first=len(name) + 2))


def _encoded_words(text: str, *, first: int) -> list[str]:
    """RFC 2047 encoded-words for `text`, whole characters each, the first after `first` columns."""
    raw = text.encode("utf-8")
    q_length = len(raw) + 2 * len(raw.translate(None, _Q_LITERAL))
    use_q = q_length <= (len(raw) + 2) // 3 * 4
    # Octets per character, Q-encoded or raw: a subject is encoded per digest, so the packing
    # below runs over plain integers.
    if use_q:
        sizes = [len(_q_char(char)) for char in text]
    else:
        sizes = [len(char.encode("utf-8")) for char in text]
    words: list[str] = []
    budget = min(_EW_MAX, _MAX_LINE - first) - _EW_OVERHEAD
    start = size = 0
    for index, char_size in enumerate(sizes):
        grown = size + char_size
        width = grown if use_q else (grown + 2) // 3 * 4
        if index > start and width > budget:
            words.append(_encoded_word(text[start:index], use_q=use_q))
            start, grown = index, char_size
            budget = min(_EW_MAX, _MAX_LINE - 1) - _EW_OVERHEAD
        size = grown
    if start < len(text):
        words.append(_encoded_word(text[start:], use_q=use_q))
    return words


def _encoded_word(text: str, *, use_q: bool) -> str:
    if use_q:
        return "=?utf-8?q?" + "".join(map(_q_char, text)) + "?="
    return "=?utf-8?b?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


@functools.lru_cache(maxsize=4096)
def _q_char(char: str) -> str:
    return "".join(_Q_BYTE[b] for b in char.encode("utf-8"))


def _fold_list(name: str, items: list[str]) -> str:
    """`Name: a, b`, each further item on its own line when the line would pass 78."""
    line = f"{name}: " + ", ".join(items)
    if len(line) <= _MAX_LINE:
        return line
    return f"{name}: " + ",\r\n ".join(items)


@dataclass(frozen=True, slots=True)
class _Encoded:
    """A piece of a body in quoted-printable, and what choosing the encoding needs to know."""

    size: int  # octets of the piece as UTF-8 with CRLF line ends
    escaped: int  # octets quoted-printable must escape (=XX, three octets for one)
    qp: bytes


def _encode_body(text: str, *, parts: BodyParts | None = None) -> tuple[bytes, bytes]:
    """The body as UTF-8 with CRLF line ends, in the smaller of quoted-printable and base64."""
    if parts is not None and _whole_lines(text, parts):
        pieces = [_encode_piece(parts.start)]
        pieces += [_encode_shared(block) for block in parts.blocks]
        pieces.append(_encode_piece(parts.end))
        size = sum(piece.size for piece in pieces)
        if _prefer_qp(size, sum(piece.escaped for piece in pieces)):
            return b"quoted-printable", b"".join(piece.qp for piece in pieces)
        return b"base64", _base64(_wire(text))
    raw = _wire(text)
    if _prefer_qp(len(raw), _escaped(raw)):
        return b"quoted-printable", _qp(raw)
    return b"base64", _base64(raw)


def _whole_lines(text: str, parts: BodyParts) -> bool:
    """Whether the pieces are the body cut only where lines start (else encode it whole)."""
    if not all(piece.endswith("\n") for piece in (parts.start, *parts.blocks) if piece):
        return False
    return "".join((parts.start, *parts.blocks, parts.end)) == text


def _encode_piece(piece: str) -> _Encoded:
    raw = _wire(piece)
    return _Encoded(size=len(raw), escaped=_escaped(raw), qp=_qp(raw))


@functools.lru_cache(maxsize=PIECE_CACHE_SIZE)
def _encode_shared(piece: str) -> _Encoded:
    """A paper block's encoding, computed once: the block str is the renderer's cached one."""
    return _encode_piece(piece)


def _wire(text: str) -> bytes:
    """UTF-8 with CRLF line ends (a lone CR or LF is a line end too)."""
    raw = text.encode("utf-8", errors="replace")
    if b"\r" in raw:
        raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return raw.replace(b"\n", b"\r\n")


def _escaped(raw: bytes) -> int:
    return len(raw) - len(raw.translate(None, _QP_ESCAPED)) + raw.count(b"=")


def _prefer_qp(size: int, escaped: int) -> bool:
    # Quoted-printable keeps mostly-ASCII HTML near its size (base64 adds a third, which matters
    # under Gmail's ~102 KB clipping); text in non-Latin scripts is smaller in base64.
    return size + 2 * escaped <= (size + 2) // 3 * 4


def _qp(raw: bytes) -> bytes:
    encoded = binascii.b2a_qp(raw, quotetabs=False, istext=True)
    # b2a_qp ends its soft line breaks like the first line end it meets: CRLF here, but a bare
    # LF when the text has no line end at all.
    if b"\r\n" not in raw:
        encoded = encoded.replace(b"\n", b"\r\n")
    return encoded


def _base64(raw: bytes) -> bytes:
    encoded = base64.b64encode(raw)
    return b"\r\n".join([encoded[i : i + 76] for i in range(0, len(encoded), 76)])

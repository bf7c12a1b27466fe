"""The Mailer protocol every transport implements, and what a send attempt can come to."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A finished message: envelope and the exact bytes to send."""

    message_id: str  # "<...@domain>", fixed per (subscriber, edition)
    sender: str  # envelope MAIL FROM
    recipient: str  # envelope RCPT TO
    data: bytes  # RFC 5322 message, CRLF line endings
    key: int = 0  # the caller's handle (the delivery id), returned in the outcome


class Status(enum.StrEnum):
    """How one message fared."""

    SENT = "sent"
    TEMPORARY = "temporary"  # 4xx, timeout, disconnect: retry later
    PERMANENT = "permanent"  # 5xx: hard bounce, suppress the address
    POLICY = "policy"  # 5.7.x: the relay refused us, not the reader; tell the operator


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """The result of offering one message to the transport."""

    key: int
    status: Status
    code: int | None = None
    detail: str = ""


class Mailer(Protocol):
    """Sends messages; one call may carry many over one or a few connections."""

    def send(self, messages: Sequence[OutgoingMessage]) -> list[SendOutcome]:
        """Offer each message once; outcomes in the same order."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...

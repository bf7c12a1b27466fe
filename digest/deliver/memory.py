"""The in-memory transport for tests: records every offer and answers as scripted per recipient."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence

from digest.deliver.mailer import OutgoingMessage, SendOutcome, Status

# What a scripted answer looks like, as a relay would give it.
_REPLIES: dict[Status, tuple[int, str]] = {
    Status.SENT: (250, "250 2.0.0 OK (memory)"),
    Status.TEMPORARY: (451, "451 4.3.0 Try again later (scripted)"),
    Status.PERMANENT: (550, "550 5.1.1 No such user (scripted)"),
    Status.POLICY: (550, "550 5.7.1 Rejected by policy (scripted)"),
}


class MemoryMailer:
    """Keeps messages in lists: `attempts` (every offer) and `sent` (the accepted ones)."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []
        self.attempts: list[OutgoingMessage] = []
        self.closed = False
        self._scripts: dict[str, tuple[deque[Status], Status]] = {}
        self._lock = threading.Lock()

    def answer(self, recipient: str, *statuses: Status, then: Status = Status.SENT) -> None:
        """Answer the next offers to `recipient` with `statuses` in turn, and `then` after."""
        with self._lock:
            self._scripts[recipient] = (deque(statuses), then)

    def send(self, messages: Sequence[OutgoingMessage]) -> list[SendOutcome]:
        """Record each message and answer it: scripted for its recipient, else SENT."""
        outcomes: list[SendOutcome] = []
        with self._lock:
            for message in messages:
                self.attempts.append(message)
                status = self._next_status(message.recipient)
                if status is Status.SENT:
                    self.sent.append(message)
                code, detail = _REPLIES[status]
                outcomes.append(SendOutcome(message.key, status, code, detail))
        return outcomes

    def sent_to(self, recipient: str) -> list[OutgoingMessage]:
        """The accepted messages for one recipient, in order."""
        with self._lock:
            return [message for message in self.sent if message.recipient == recipient]

    def close(self) -> None:
        """Mark the mailer closed (tests check that the pipeline closes it)."""
        self.closed = True

    def _next_status(self, recipient: str) -> Status:
        script = self._scripts.get(recipient)
        if script is None:
            return Status.SENT
        queued, then = script
        return queued.popleft() if queued else then

"""The default transport: each message becomes one file in a Maildir, which any mail client opens.

`mailbox.Maildir` writes the file under tmp/ and links or renames it into new/, so a reader
never sees half a message. The bytes are stored exactly as built (CRLF line ends included).
There is no fsync: a power cut right after a send may lose the file although the ledger says
sent, which is acceptable for a folder meant for local runs and inspection.
"""

from __future__ import annotations

import logging
import mailbox
import threading
from collections.abc import Sequence
from pathlib import Path

from digest.deliver.mailer import OutgoingMessage, SendOutcome, Status

logger = logging.getLogger(__name__)


class MaildirMailer:
    """Delivers every message into the Maildir at `path` (created if missing)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._maildir: mailbox.Maildir | None = None
        self._lock = threading.Lock()

    def send(self, messages: Sequence[OutgoingMessage]) -> list[SendOutcome]:
        """Write each message as a file in new/; a failed write is TEMPORARY."""
        outcomes: list[SendOutcome] = []
        with self._lock:
            for message in messages:
                try:
                    if self._maildir is None:
                        self._maildir = mailbox.Maildir(self.path, create=True)
                    name = self._maildir.add(message.data)
                except OSError as exc:
                    detail = f"maildir {self.path}: {exc}"
                    outcomes.append(SendOutcome(message.key, Status.TEMPORARY, None, detail))
                else:
                    outcomes.append(SendOutcome(message.key, Status.SENT, None, name))
        failed = sum(outcome.status is not Status.SENT for outcome in outcomes)
        logger.info(
            "maildir: messages=%d written=%d failed=%d",
            len(outcomes),
            len(outcomes) - failed,
            failed,
        )
        return outcomes

    def close(self) -> None:
        """Nothing to release: every message is a closed file already."""
        with self._lock:
            if self._maildir is not None:
                self._maildir.close()
                self._maildir = None

"""The SMTP transport: a few long-lived connections, many messages each, outcomes classified.

Each of `connections` workers owns one smtplib connection, opened on first use and kept across
messages and across `send` calls (no QUIT until `close`). Workers take messages from a shared
queue; outcomes come back in input order. A transaction refused by the server is followed by
RSET, so the same connection carries on. A connection the server dropped (a disconnect, or a
421 "closing channel") is reopened once and that message offered once more; a timeout is not
retried (the server may have accepted the message, and the pipeline retries TEMPORARY later
anyway). A worker that cannot connect stops; what no worker could offer gets its outcome.

Classification: 2xx SENT; 4xx, timeouts, refused/reset/dropped connections TEMPORARY; 5xx
PERMANENT, except enhanced status 5.7.x (policy) and any 5xx before RCPT (greeting, EHLO,
STARTTLS, AUTH, MAIL FROM: the relay refusing us, not the reader) which are POLICY.
"""

from __future__ import annotations

import contextlib
import logging
import re
import smtplib
import ssl
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence

from digest.deliver.mailer import OutgoingMessage, SendOutcome, Status

logger = logging.getLogger(__name__)

SECURITY_MODES = ("none", "starttls", "ssl")
_POLICY_CODE = re.compile(r"\s*5\.7\.\d{1,3}\b")
_DETAIL_MAX = 300


def classify_reply(code: int, text: str, *, stage: str) -> Status:
    """The Status of an SMTP reply at `stage` (connect, mail, rcpt or data)."""
    if 200 <= code < 300:
        return Status.SENT
    if 500 <= code < 600:
        if stage in {"connect", "mail"} or _POLICY_CODE.match(text):
            return Status.POLICY
        return Status.PERMANENT
    return Status.TEMPORARY  # 4xx, and anything unexpected: worth another try later


class _DroppedError(Exception):
    """The server closed the connection (or said 421) during a transaction."""

    def __init__(self, detail: str, *, code: int | None = None, timed_out: bool = False) -> None:
        super().__init__(detail)
        self.code = code
        self.timed_out = timed_out


class _UnreachableError(Exception):
    """The worker could not open a usable connection; carries the outcome to give."""

    def __init__(self, status: Status, code: int | None, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


class _Pacer:
    """Spaces message starts `1/rate` seconds apart across all workers; rate 0 means no cap."""

    def __init__(
        self, rate: float, *, clock: Callable[[], float], sleep: Callable[[float], None]
    ) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next: float | None = None
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self._interval:
            return
        with self._lock:
            now = self._clock()
            start = now if self._next is None else max(now, self._next)
            self._next = start + self._interval
        if start > now:
            self._sleep(start - now)


class SmtpMailer:
    """Sends over SMTP with `connections` persistent connections and an optional rate cap."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        security: str = "none",
        username: str = "",
        password: str = "",
        timeout: float = 30.0,
        connections: int = 1,
        rate: float = 0.0,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if security not in SECURITY_MODES:
            raise ValueError(f"security must be one of {', '.join(SECURITY_MODES)}")
        if connections < 1:
            raise ValueError("connections must be at least 1")
        if rate < 0 or timeout <= 0:
            raise ValueError("rate must be >= 0 and timeout > 0")
        self.host = host
        self.port = port
        self.security = security
        self._username = username
        self._password = password
        self._timeout = timeout
        self._ssl_context = ssl_context
        self._local_hostname = local_hostname
        self._slots: list[smtplib.SMTP | None] = [None] * connections
        self._pacer = _Pacer(rate, clock=clock, sleep=sleep)
        self._lock = threading.Lock()
        self._count_lock = threading.Lock()
        self.connections_opened = 0  # for logs and tests

    def send(self, messages: Sequence[OutgoingMessage]) -> list[SendOutcome]:
        """Offer each message once (plus one retry after a dropped connection); input order."""
        with self._lock:
            outcomes: list[SendOutcome | None] = [None] * len(messages)
            jobs = deque(enumerate(messages))
            failures: list[_UnreachableError] = []
            workers = min(len(self._slots), len(messages))
            if workers <= 1:
                self._work(0, jobs, outcomes, failures)
            else:
                threads = [
                    threading.Thread(
                        target=self._work,
                        args=(slot, jobs, outcomes, failures),
                        name=f"smtp-{slot}",
                    )
                    for slot in range(workers)
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
            result = [
                outcome if outcome is not None else _not_offered(message, failures)
                for outcome, message in zip(outcomes, messages, strict=True)
            ]
        counts = Counter(outcome.status for outcome in result)
        logger.info(
            "smtp: messages=%d sent=%d temporary=%d permanent=%d policy=%d connections=%d",
            len(result),
            counts[Status.SENT],
            counts[Status.TEMPORARY],
            counts[Status.PERMANENT],
            counts[Status.POLICY],
            self.connections_opened,
        )
        return result

    def close(self) -> None:
        """QUIT every open connection."""
        with self._lock:
            for slot, smtp in enumerate(self._slots):
                if smtp is None:
                    continue
                try:
                    smtp.quit()
                except (smtplib.SMTPException, OSError):
                    smtp.close()
                self._slots[slot] = None

    # --- one worker ------------------------------------------------------------------------

    def _work(
        self,
        slot: int,
        jobs: deque[tuple[int, OutgoingMessage]],
        outcomes: list[SendOutcome | None],
        failures: list[_UnreachableError],
    ) -> None:
        while True:
            try:
                index, message = jobs.popleft()  # deque.popleft is atomic: no lock needed
            except IndexError:
                return
            self._pacer.wait()
            try:
                outcomes[index] = self._deliver(slot, message)
            except _UnreachableError as exc:
                outcomes[index] = SendOutcome(message.key, exc.status, exc.code, exc.detail)
                failures.append(exc)
                return  # leave the rest to workers that can connect

    def _deliver(self, slot: int, message: OutgoingMessage) -> SendOutcome:
        for attempt in (1, 2):
            smtp = self._slots[slot] or self._open(slot)
            try:
                outcome = self._transaction(smtp, message)
                if smtp.sock is None:  # closed by smtplib while refusing or resetting
                    self._drop(slot)
                return outcome
            except _DroppedError as exc:
                self._drop(slot)
                if exc.timed_out or attempt == 2:
                    return SendOutcome(message.key, Status.TEMPORARY, exc.code, str(exc))
                logger.info("smtp: connection %d dropped (%s); reconnecting", slot, exc)
            except (smtplib.SMTPException, OSError) as exc:
                self._drop(slot)
                return SendOutcome(message.key, Status.TEMPORARY, None, _describe(exc))
            except Exception as exc:  # a bug must not lose the outcomes of the whole batch
                logger.exception("smtp: unexpected error sending %s", message.message_id)
                self._drop(slot)
                return SendOutcome(message.key, Status.TEMPORARY, None, _describe(exc))
        raise AssertionError("unreachable")  # pragma: no cover

    def _transaction(self, smtp: smtplib.SMTP, message: OutgoingMessage) -> SendOutcome:
        try:
            options = [f"SIZE={len(message.data)}"] if smtp.has_extn("size") else []
            code, reply = smtp.mail(message.sender, options)
            if code != 250:
                return self._refused(smtp, message, code, reply, stage="mail")
            code, reply = smtp.rcpt(message.recipient)
            if code not in (250, 251):
                return self._refused(smtp, message, code, reply, stage="rcpt")
            try:
                code, reply = _data(smtp, message.data)
            except smtplib.SMTPDataError as exc:  # the DATA command itself was refused
                code, reply = exc.smtp_code, _bytes(exc.smtp_error)
            if code != 250:
                return self._refused(smtp, message, code, reply, stage="data")
        except smtplib.SMTPServerDisconnected as exc:
            raise _DroppedError(_describe(exc), timed_out=_timed_out(exc)) from exc
        return SendOutcome(message.key, Status.SENT, code, f"{code} {_text(reply)}")

    def _refused(
        self, smtp: smtplib.SMTP, message: OutgoingMessage, code: int, reply: bytes, *, stage: str
    ) -> SendOutcome:
        text = _text(reply)
        if code in (421, -1):  # the server is closing the channel (-1: no reply at all)
            raise _DroppedError(f"{code} {text}", code=code if code > 0 else None)
        # The refusal stands even if RSET finds the connection gone; smtplib then closes it
        # and _deliver drops it.
        with contextlib.suppress(smtplib.SMTPServerDisconnected):
            smtp.rset()
        status = classify_reply(code, text, stage=stage)
        return SendOutcome(message.key, status, code, f"{code} {text}")

    # --- connections ---------------------------------------------------------------------

    def _open(self, slot: int) -> smtplib.SMTP:
        context = self._ssl_context
        if context is None and self.security != "none":
            context = ssl.create_default_context()
        try:
            smtp: smtplib.SMTP
            if self.security == "ssl":
                smtp = smtplib.SMTP_SSL(
                    self.host,
                    self.port,
                    local_hostname=self._local_hostname,
                    timeout=self._timeout,
                    context=context,
                )
            else:
                smtp = smtplib.SMTP(
                    self.host, self.port, local_hostname=self._local_hostname, timeout=self._timeout
                )
        except (smtplib.SMTPException, OSError) as exc:  # refused, timeout, a greeting not 220
            raise self._unreachable(exc) from exc
        try:
            smtp.ehlo_or_helo_if_needed()
            if self.security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if self._username:
                smtp.login(self._username, self._password)
        except (smtplib.SMTPException, OSError) as exc:
            smtp.close()
            raise self._unreachable(exc) from exc
        self._slots[slot] = smtp
        with self._count_lock:
            self.connections_opened += 1
        return smtp

    def _unreachable(self, exc: BaseException) -> _UnreachableError:
        detail = f"{self.host}:{self.port}: {_describe(exc)}"
        logger.warning("smtp: cannot use the relay: %s", detail)
        if isinstance(exc, smtplib.SMTPResponseException):
            status = classify_reply(exc.smtp_code, _text(exc.smtp_error), stage="connect")
            return _UnreachableError(status, exc.smtp_code, detail)
        if isinstance(exc, smtplib.SMTPServerDisconnected):
            return _UnreachableError(Status.TEMPORARY, None, detail)
        if isinstance(exc, smtplib.SMTPException | ssl.SSLCertVerificationError):
            # STARTTLS or AUTH not offered, no usable AUTH mechanism, a certificate that does
            # not verify: settings to fix, not a passing fault.
            return _UnreachableError(Status.POLICY, None, detail)
        return _UnreachableError(Status.TEMPORARY, None, detail)  # refused, reset, timed out

    def _drop(self, slot: int) -> None:
        smtp = self._slots[slot]
        self._slots[slot] = None
        if smtp is not None:
            smtp.close()


def _data(smtp: smtplib.SMTP, data: bytes) -> tuple[int, bytes]:
    """smtplib's `SMTP.data` for bytes, with its dot-stuffing done by `dot_stuffed`."""
    smtp.putcmd("data")
    code, reply = smtp.getreply()
    if code != 354:
        raise smtplib.SMTPDataError(code, reply)
    stuffed = dot_stuffed(data)
    smtp.send(stuffed + (b".\r\n" if stuffed.endswith(b"\r\n") else b"\r\n.\r\n"))
    return smtp.getreply()


def dot_stuffed(data: bytes) -> bytes:
    """A second "." before each line that starts with one (RFC 5321 4.5.2).

    smtplib's multi-line regular expression gives the same bytes but takes about 0.2 ms on a
    60 KB digest (this: 0.05 ms), half the client's CPU per message (benchmarks/deliver.py).
    """
    return (b"." + data if data.startswith(b".") else data).replace(b"\n.", b"\n..")


def _not_offered(message: OutgoingMessage, failures: list[_UnreachableError]) -> SendOutcome:
    """The outcome of a message no worker could offer: that of the last connection failure."""
    last = failures[-1]
    return SendOutcome(message.key, last.status, last.code, f"not offered: {last.detail}")


def _timed_out(exc: BaseException) -> bool:
    """smtplib reports a read timeout as a disconnect; the cause tells them apart."""
    cause = exc.__cause__ or exc.__context__
    return isinstance(cause, TimeoutError) or "timed out" in str(exc)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:_DETAIL_MAX]


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())[:_DETAIL_MAX]


def _bytes(reply: bytes | str) -> bytes:
    return reply if isinstance(reply, bytes) else reply.encode("utf-8", "replace")

"""A real SMTP server (aiosmtpd) on 127.0.0.1 for tests: records what it receives, fails on demand.

Use the fixture (import it into a conftest.py: ``from tests.smtpserver import smtp_server``),
which stops every server it started at the end of the test, or ``with SmtpServer() as server:``::

    def test_something(smtp_server):
        server = smtp_server(disconnect_after=3)
        server.answer("a@example.com", "451 4.3.0 Try again later", times=2)
        ...send to server.host, server.port...
        assert [m.rcpt_tos for m in server.messages] == [["b@example.com"]]

Constructor options (keyword-only; all off by default):
  delay=0.0            seconds to wait before every reply, the greeting included (timeouts)
  disconnect_after=K   close each connection right after accepting its K-th message
  stop_after=K         after K messages in all: stop listening (later connections are refused)
                       and close every connection
  auth=("user", "pw")  offer AUTH PLAIN/LOGIN (TLS not required) and refuse MAIL without it
                       ("530 5.7.0 Authentication required"); wrong credentials get 535 5.7.8
  tls=SSLContext       offer STARTTLS with this server context; `self_signed_tls(folder)` makes
                       one and its certificate file, to pass as certificate= for client_context()
  implicit_tls=True    with tls=: TLS from the first byte (SMTPS, "ssl" security)

Answering on demand, at any time (the server thread sees it on the next command):
  server.answer(recipient, "550 5.1.1 No such user")            # every RCPT TO of that address
  server.answer(recipient, "451 4.3.0 Later", times=2)          # the first 2 attempts, then OK
  server.answer(recipient, "550 5.7.1 Spam", at="data")          # after the content is sent
  server.answer(recipient, at="data", delay=3.0)                 # accept, but reply 3 s late
A refused message is not recorded in `messages`; the first matching rule that still has
`times` left answers. Replies are full SMTP lines: "<code> <text>".

What it records (read after the client is done; a lock guards the lists):
  messages: list[Received]     accepted messages: mail_from, rcpt_tos, data (the bytes as
                               received, dot-stuffing undone), connection (1-based number),
                               tls (whether the session was encrypted)
  connections: int             connections accepted so far
  per_connection: dict[int, int]  accepted messages per connection number
  commands: list[tuple[int, str]] (connection, verb) for MAIL, RCPT, DATA, RSET, QUIT
  client_context(): an ssl.SSLContext that trusts the test certificate (tls= servers)
stop() closes every connection, stops listening and joins the server thread: no thread or port
outlives the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

_START_TIMEOUT = 10.0


@dataclass(frozen=True)
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    connection: int
    tls: bool


@dataclass
class _Rule:
    recipient: str
    reply: str | None
    times: int | None
    at: str
    delay: float
    used: int = 0


class SmtpServer:
    """A threaded aiosmtpd server on 127.0.0.1 and a free port; see the module docstring."""

    def __init__(
        self,
        *,
        delay: float = 0.0,
        disconnect_after: int | None = None,
        stop_after: int | None = None,
        auth: tuple[str, str] | None = None,
        tls: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
        certificate: Path | None = None,
    ) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self.delay = delay
        self.disconnect_after = disconnect_after
        self.stop_after = stop_after
        self.auth = auth
        self.tls = tls
        self.implicit_tls = implicit_tls
        self.certificate = certificate
        self.messages: list[Received] = []
        self.connections = 0
        self.per_connection: dict[int, int] = {}
        self.commands: list[tuple[int, str]] = []
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()
        self._live: set[_RecordingSMTP] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._server: asyncio.AbstractServer | None = None
        self._stopped_listening = False

    # --- control, from the test thread ---------------------------------------------------

    def answer(
        self,
        recipient: str,
        reply: str | None = None,
        *,
        times: int | None = None,
        at: str = "rcpt",
        delay: float = 0.0,
    ) -> None:
        """Answer `recipient`'s RCPT (or DATA) with `reply` (None: the normal OK) `times` times."""
        if at not in {"rcpt", "data"}:
            raise ValueError("at must be 'rcpt' or 'data'")
        with self._lock:
            self._rules.append(_Rule(recipient, reply, times, at, delay))

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's self-signed certificate."""
        if self.certificate is None:
            raise ValueError("this server has no certificate")
        return ssl.create_default_context(cafile=str(self.certificate))

    def start(self) -> SmtpServer:
        """Listen on a free loopback port and serve from a thread of its own."""
        sock = socket.create_server((self.host, 0))
        # Accepted connections inherit this on Linux; without it every reply that follows a
        # small write waits for the client's delayed ACK (~40 ms per EHLO).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.port = sock.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run, args=(sock, ready, failure), name=f"smtpserver-{self.port}"
        )
        self._thread.daemon = True
        self._thread.start()
        if not ready.wait(_START_TIMEOUT) or failure:
            self.stop()
            raise RuntimeError(f"test SMTP server did not start: {failure}")
        return self

    def stop(self) -> None:
        """Close every connection, stop listening, join the thread."""
        if self._thread is None or self._loop is None:
            return
        if self._stop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(_START_TIMEOUT)
        if self._thread.is_alive():
            raise RuntimeError("test SMTP server thread did not stop")
        self._thread = None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- the server thread ----------------------------------------------------------------

    def _run(
        self, sock: socket.socket, ready: threading.Event, failure: list[BaseException]
    ) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve(sock, ready))
        except BaseException as exc:
            failure.append(exc)
            ready.set()
        finally:
            self._loop.close()

    async def _serve(self, sock: socket.socket, ready: threading.Event) -> None:
        self._stop = asyncio.Event()
        ssl_context = self.tls if self.implicit_tls else None
        self._server = await asyncio.get_running_loop().create_server(
            self._make_protocol, sock=sock, ssl=ssl_context
        )
        ready.set()
        await self._stop.wait()
        self._close_all()
        await self._server.wait_closed()
        current = asyncio.current_task()
        tasks = [task for task in asyncio.all_tasks() if task is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for _ in range(3):  # let the closed transports call connection_lost before the loop ends
            await asyncio.sleep(0)

    def _make_protocol(self) -> _RecordingSMTP:
        return _RecordingSMTP(
            _Handler(self),
            owner=self,
            hostname="localhost",
            tls_context=None if self.implicit_tls else self.tls,
            authenticator=self._authenticate if self.auth else None,
            auth_require_tls=False,
            timeout=30,
        )

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and self.auth == (
            data.login.decode(),
            data.password.decode(),
        )
        return AuthResult(success=ok, handled=False)

    def _close_all(self, *, spare: _RecordingSMTP | None = None) -> None:
        """Stop listening and close every connection but `spare` (closed after its reply)."""
        if self._server is not None and not self._stopped_listening:
            self._server.close()
            self._stopped_listening = True
        for protocol in list(self._live):
            if protocol is not spare and protocol.transport is not None:
                protocol.transport.close()

    def _rule_for(self, recipients: list[str], at: str) -> _Rule | None:
        with self._lock:
            for rule in self._rules:
                if rule.at == at and rule.recipient in recipients:
                    if rule.times is not None and rule.used >= rule.times:
                        continue
                    rule.used += 1
                    return rule
        return None

    def _accept(self, protocol: _RecordingSMTP, envelope: Envelope) -> None:
        number = protocol.number
        transport = protocol.transport
        with self._lock:
            self.messages.append(
                Received(
                    mail_from=envelope.mail_from or "",
                    rcpt_tos=list(envelope.rcpt_tos),
                    data=bytes(envelope.original_content or b""),
                    connection=number,
                    tls=transport is not None and bool(transport.get_extra_info("ssl_object")),
                )
            )
            self.per_connection[number] = self.per_connection.get(number, 0) + 1
            total = len(self.messages)
            on_this = self.per_connection[number]
        if self.stop_after is not None and total >= self.stop_after:
            protocol.close_after_reply = True
            self._close_all(spare=protocol)
        elif self.disconnect_after is not None and on_this >= self.disconnect_after:
            protocol.close_after_reply = True


class _RecordingSMTP(SMTP):
    """aiosmtpd's protocol, numbering connections, delaying replies, closing on request."""

    def __init__(self, handler: _Handler, *, owner: SmtpServer, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.owner = owner
        self.number = 0
        self.close_after_reply = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._original_transport is None:  # a new connection, not the STARTTLS re-entry
            with self.owner._lock:
                self.owner.connections += 1
                self.number = self.owner.connections
            self.owner._live.add(self)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        self.owner._live.discard(self)
        super().connection_lost(error)

    async def push(self, status: Any) -> None:
        if self.owner.delay:
            await asyncio.sleep(self.owner.delay)
        if self.transport is None or self.transport.is_closing():
            return
        await super().push(status)
        if self.close_after_reply and self.transport is not None:
            self.transport.close()


class _Handler:
    """aiosmtpd hooks: log commands, apply the answer rules, record accepted messages."""

    def __init__(self, owner: SmtpServer) -> None:
        self.owner = owner

    def _log(self, server: _RecordingSMTP, verb: str) -> None:
        with self.owner._lock:
            self.owner.commands.append((server.number, verb))

    async def _ruled(self, recipients: list[str], at: str) -> str | None:
        """The reply a matching rule asks for (after its delay), or None to go on normally."""
        rule = self.owner._rule_for(recipients, at)
        if rule is not None and rule.delay:
            await asyncio.sleep(rule.delay)
        return rule.reply if rule is not None else None

    async def handle_MAIL(
        self,
        server: _RecordingSMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        options: list[str],
    ) -> str:
        self._log(server, "MAIL")
        if self.owner.auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: _RecordingSMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        options: list[str],
    ) -> str:
        self._log(server, "RCPT")
        refusal = await self._ruled([address], "rcpt")
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(
        self, server: _RecordingSMTP, session: Session, envelope: Envelope
    ) -> str:
        self._log(server, "DATA")
        refusal = await self._ruled(list(envelope.rcpt_tos), "data")
        if refusal is not None:
            return refusal
        self.owner._accept(server, envelope)
        return f"250 2.0.0 OK queued as {len(self.owner.messages)}"

    async def handle_RSET(
        self, server: _RecordingSMTP, session: Session, envelope: Envelope
    ) -> str:
        self._log(server, "RSET")
        return "250 OK"

    async def handle_QUIT(
        self, server: _RecordingSMTP, session: Session, envelope: Envelope
    ) -> str:
        self._log(server, "QUIT")
        return "221 Bye"


def self_signed_tls(folder: Path) -> tuple[ssl.SSLContext, Path]:
    """A server context with a fresh self-signed certificate for 127.0.0.1, and the cert file."""
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    return context, cert


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., SmtpServer]]:
    """A factory of started test SMTP servers (options as SmtpServer's); all stop at teardown."""
    servers: list[SmtpServer] = []

    def start(**options: Any) -> SmtpServer:
        server = SmtpServer(**options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()

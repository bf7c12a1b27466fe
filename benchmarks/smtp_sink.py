"""SMTP sinks for benchmarks/deliver.py: listen on 127.0.0.1, accept every message, keep nothing.

Run as a process of its own (`python benchmarks/smtp_sink.py [--kind K] [--delay SECONDS]`),
so that the sending benchmark's client and the server do not share one interpreter and its
lock. It prints `port N` once it listens, serves until its standard input closes, then prints
`messages M bytes B` and exits. Two kinds:

- `aiosmtpd` (default): aiosmtpd's SMTP protocol with a handler that counts, like
  tests/smtpserver.py but storing nothing (10,000 digests of 60 KB would cost 600 MB). It reads
  a message line by line, about a millisecond of CPU per digest: the sink is the bottleneck.
- `raw`: a few lines of asyncio that answer the commands an SMTP client sends one at a time
  and find the end of the data with one search per read, several times cheaper per message:
  it shows how fast the client itself can go.

`--delay` waits that long before every reply (the greeting, EHLO, MAIL, RCPT, DATA's 354 and
the final 250): a relay a few milliseconds away.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
from collections.abc import Callable
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

_EHLO = b"250-localhost\r\n250-SIZE 33554432\r\n250-8BITMIME\r\n250 HELP\r\n"
_END = b"\r\n.\r\n"


class _Counter:
    """Messages and bytes received; also the aiosmtpd handler that accepts everything."""

    def __init__(self) -> None:
        self.messages = 0
        self.bytes = 0

    async def handle_DATA(  # noqa: N802  (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        self.messages += 1
        self.bytes += len(envelope.original_content or b"")
        return "250 2.0.0 OK"


class _DelayedSMTP(SMTP):
    """aiosmtpd's protocol, waiting `delay` seconds before each reply."""

    def __init__(self, handler: _Counter, *, delay: float, **options: Any) -> None:
        super().__init__(handler, **options)
        self._delay = delay

    async def push(self, status: Any) -> None:
        # A multi-line reply (EHLO) is pushed line by line: wait once, before its last line.
        if self._delay and str(status)[3:4] != "-":
            await asyncio.sleep(self._delay)
        await super().push(status)


class _RawSMTP(asyncio.Protocol):
    """Just enough SMTP for a client that waits for each reply (no PIPELINING offered)."""

    def __init__(self, counter: _Counter, *, delay: float) -> None:
        self._counter = counter
        self._delay = delay
        self._buffer = bytearray()
        self._in_data = False
        self._searched = 0  # where the search for the end of the data resumes
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._reply(b"220 localhost ESMTP sink\r\n")

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while self._take_message() if self._in_data else self._take_line():
            pass

    def _take_message(self) -> bool:
        if self._buffer.startswith(b".\r\n"):  # nothing before the end mark
            size, used = 0, 3
        else:
            # Resume where the last search stopped, less what could be the start of the mark.
            found = self._buffer.find(_END, max(self._searched - len(_END) + 1, 0))
            if found < 0:
                self._searched = len(self._buffer)
                return False
            size, used = found, found + len(_END)
        del self._buffer[:used]
        self._counter.messages += 1
        self._counter.bytes += size
        self._in_data, self._searched = False, 0
        self._reply(b"250 2.0.0 OK\r\n")
        return True

    def _take_line(self) -> bool:
        end = self._buffer.find(b"\r\n")
        if end < 0:
            return False
        verb = bytes(self._buffer[:4]).upper()
        del self._buffer[: end + 2]
        if verb in (b"EHLO", b"HELO"):
            self._reply(_EHLO if verb == b"EHLO" else b"250 localhost\r\n")
        elif verb == b"DATA":
            self._in_data = True
            self._reply(b"354 End data with <CR><LF>.<CR><LF>\r\n")
        elif verb == b"QUIT":
            self._reply(b"221 Bye\r\n", then=self._close)
        elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
            self._reply(b"250 OK\r\n")
        else:
            self._reply(b"500 Command not recognized\r\n")
        return True

    def _reply(self, line: bytes, *, then: Callable[[], None] | None = None) -> None:
        def send() -> None:
            if self._transport is not None and not self._transport.is_closing():
                self._transport.write(line)
                if then is not None:
                    then()

        if self._delay:
            asyncio.get_running_loop().call_later(self._delay, send)
        else:
            send()

    def _close(self) -> None:
        if self._transport is not None:
            self._transport.close()


async def _serve(kind: str, delay: float) -> _Counter:
    counter = _Counter()
    loop = asyncio.get_running_loop()

    def protocol() -> asyncio.Protocol:
        if kind == "raw":
            return _RawSMTP(counter, delay=delay)
        # hostname given: aiosmtpd would otherwise look up the FQDN for every connection.
        return _DelayedSMTP(counter, delay=delay, hostname="localhost", timeout=60)

    # asyncio makes the listening socket itself, so that it is IPPROTO_TCP and every accepted
    # connection gets TCP_NODELAY: on a socket from socket.create_server (protocol 0) it does
    # not, and each multi-line EHLO reply then waits ~40 ms for the client's delayed ACK.
    server = await loop.create_server(protocol, host="127.0.0.1", port=0, backlog=512)
    port = server.sockets[0].getsockname()[1]
    done = asyncio.Event()
    threading.Thread(
        target=lambda: (sys.stdin.read(), loop.call_soon_threadsafe(done.set)), daemon=True
    ).start()
    print(f"port {port}", flush=True)
    await done.wait()
    server.close()
    await server.wait_closed()
    return counter


def main(argv: list[str] | None = None) -> int:
    """Serve until stdin closes; print what was received."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=("aiosmtpd", "raw"), default="aiosmtpd")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before every reply")
    args = parser.parse_args(argv)
    counter = asyncio.run(_serve(args.kind, args.delay))
    print(f"messages {counter.messages} bytes {counter.bytes}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

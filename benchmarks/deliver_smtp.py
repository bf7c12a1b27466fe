"""The sending half of benchmarks/deliver.py: digests offered to an SMTP sink, case by case.

The sink (benchmarks/smtp_sink.py) runs in a process of its own, immediate or waiting DELAY
before every reply: aiosmtpd, as a real Python server would be, or a raw asyncio one several
times cheaper per message, to see how fast the client itself goes. Clients: one smtplib
connection per message (connect, EHLO, send, QUIT), and the project's SmtpMailer as
make_mailer builds it with 1, 16 and 32 connections, given everything in one `send` call or
`connections` messages per call, the way digest/pipeline/sending.py calls it.
"""

from __future__ import annotations

import dataclasses
import os
import smtplib
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from digest.deliver.mailer import OutgoingMessage, Status
from digest.deliver.smtp import SmtpMailer

SINK = Path(__file__).resolve().parent / "smtp_sink.py"
DELAY = 0.005  # seconds before every reply of the "remote relay" sink


@dataclass
class Sink:
    """The sink process: where it listens, and its CPU time so far."""

    process: subprocess.Popen[str]
    port: int

    def cpu(self) -> float | None:
        """User + system CPU seconds of the sink process (Linux /proc), None elsewhere."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def sink(kind: str, delay: float) -> Iterator[Sink]:
    """benchmarks/smtp_sink.py in a process of its own."""
    process = subprocess.Popen(
        [sys.executable, str(SINK), "--kind", kind, "--delay", str(delay)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("port "):
            raise SystemExit(f"the SMTP sink did not start: {line!r}")
        yield Sink(process, int(line.split()[1]))
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def send_one_connection_each(messages: Sequence[OutgoingMessage], port: int) -> None:
    """The naive client: connect, EHLO, send, QUIT, for every message."""
    for message in messages:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            refused = smtp.sendmail(message.sender, [message.recipient], message.data)
        if refused:
            raise SystemExit(f"the sink refused {message.message_id}: {refused}")


def send_with_mailer(
    messages: Sequence[OutgoingMessage], port: int, *, connections: int, chunk: int
) -> None:
    """SmtpMailer as make_mailer builds it, given `chunk` messages per send call."""
    mailer = SmtpMailer("127.0.0.1", port, timeout=30, connections=connections)
    try:
        for start in range(0, len(messages), chunk):
            for outcome in mailer.send(messages[start : start + chunk]):
                if outcome.status is not Status.SENT:
                    raise SystemExit(f"message {outcome.key} not sent: {outcome}")
    finally:
        mailer.close()


@dataclass(frozen=True)
class Case:
    """One way of sending."""

    client: str  # "one connection each" or "SmtpMailer"
    connections: int
    chunk: int  # messages per send call (0: not SmtpMailer)
    slow: bool = False  # few messages: it waits ~20 ms per message on one connection


def send_cases(messages: int) -> list[tuple[str, float, list[Case]]]:
    """The cases per sink: (kind, delay, cases)."""
    each = Case("one connection each", 1, 0)
    single = Case("SmtpMailer", 1, 1)
    pools = [
        Case("SmtpMailer", connections, chunk)
        for connections in (16, 32)
        for chunk in (messages, connections)  # everything at once; as sending.py does
    ]
    slow = [dataclasses.replace(case, slow=True) for case in (each, single)]
    return [
        ("aiosmtpd", 0.0, [each, single, *pools]),
        ("aiosmtpd", DELAY, slow + pools),
        ("raw", 0.0, [each, single, *pools[:2]]),
        ("raw", DELAY, pools),
    ]


def bench_send(kept: Sequence[OutgoingMessage], *, messages: int, few: int) -> list[dict[str, Any]]:
    """Every case against each sink, one sink process at a time; `few` messages for the
    cases that wait ~20 ms per message on one connection."""
    print(
        f"\nsend: composed digests ({statistics.mean(len(m.data) for m in kept) / 1000:.1f} KB "
        f"on average, {len(kept):,} distinct, cycled) to a sink in its own process (aiosmtpd, "
        "or the raw asyncio one); chunk = messages per SmtpMailer.send call"
    )
    print(
        f"{'':4} {'sink':<8} {'delay':>5}  {'client':<20} {'conns':>5} {'chunk':>6} "
        f"{'messages':>8} {'s':>7} {'msg/s':>7} {'client CPU s':>12} {'sink CPU s':>10}"
    )
    rows = []
    for kind, delay, cases in send_cases(messages):
        with sink(kind, delay) as server:
            for case in cases:
                count = few if case.slow else messages
                row = _send_case(case, kept, server, count=count)
                rows.append({"sink": kind, "delay_ms": 1000 * delay, **row})
                chunk = f"{case.chunk:,}" if case.chunk else "-"
                used = row["sink_cpu_s"]
                shown = f"{used:10.2f}" if used is not None else f"{'?':>10}"
                print(
                    f"send {kind:<8} {1000 * delay:2.0f} ms  {case.client:<20} "
                    f"{case.connections:>5} {chunk:>6} {count:>8,} {row['wall_s']:7.2f} "
                    f"{row['per_s']:7,.0f} {row['client_cpu_s']:12.2f} {shown}",
                    flush=True,
                )
    return rows


def _send_case(
    case: Case, kept: Sequence[OutgoingMessage], server: Sink, *, count: int
) -> dict[str, Any]:
    batch = [dataclasses.replace(kept[i % len(kept)], key=i) for i in range(count)]
    sink_before, cpu = server.cpu(), time.process_time()
    started = time.perf_counter()
    if case.chunk:
        send_with_mailer(batch, server.port, connections=case.connections, chunk=case.chunk)
    else:
        send_one_connection_each(batch, server.port)
    wall = time.perf_counter() - started
    client_cpu = time.process_time() - cpu
    sink_after = server.cpu()
    return {
        "client": case.client,
        "connections": case.connections,
        "chunk": case.chunk,
        "messages": count,
        "wall_s": wall,
        "per_s": count / wall,
        "client_cpu_s": client_cpu,
        "sink_cpu_s": (
            sink_after - sink_before if sink_after is not None and sink_before is not None else None
        ),
    }

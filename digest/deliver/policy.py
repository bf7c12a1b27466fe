"""When to retry a delivery, and when to stop a run: pure, with the clock and randomness passed in.

Backoff: "full jitter above a floor". The n-th retry waits a uniform random time between
`base` and `base * 2**n` seconds (capped). Full jitter spreads out the retries of a batch that
failed together (a relay outage fails hundreds of deliveries in the same second); the floor
keeps a retry from coming back within seconds, which would waste one of the few attempts on
greylisting (typically 1-5 minutes). It needs only the attempt count, which the ledger keeps;
decorrelated jitter would need the previous delay as well.

Circuit breaker: a run stops when the relay keeps failing. TEMPORARY (4xx, timeouts, refused or
dropped connections) and POLICY (5.7.x: the relay refuses us) count, and SENT resets the
count. One PERMANENT is about one reader's address, says nothing about the relay and neither
counts nor resets; but a long unbroken run of them means a relay that rejects everything
without saying "5.7" (an old "550 Relaying denied"), and every one of them would suppress a
reader, so as many PERMANENTs in a row as the threshold open the breaker too.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from digest.deliver.mailer import Status

DEFAULT_CAP_SECONDS = 6 * 3600.0


def next_attempt(
    attempts: int,
    *,
    now: datetime,
    base_seconds: float,
    rng: random.Random,
    cap_seconds: float = DEFAULT_CAP_SECONDS,
) -> datetime:
    """When to try again after `attempts` failed tries: uniform in [base, base*2**attempts]."""
    if attempts < 1:
        raise ValueError("attempts counts the tries made so far: at least 1")
    if base_seconds <= 0:
        raise ValueError("base_seconds must be positive")
    ceiling = min(cap_seconds, base_seconds * 2.0 ** min(attempts, 60))
    floor = min(base_seconds, ceiling)
    return now + timedelta(seconds=rng.uniform(floor, ceiling))


class CircuitBreaker:
    """Opens after `threshold` failures in a row (TEMPORARY/POLICY), or as many PERMANENTs."""

    def __init__(self, threshold: int, *, permanent_threshold: int | None = None) -> None:
        if threshold < 1:
            raise ValueError("threshold must be at least 1")
        self.threshold = threshold
        self.permanent_threshold = permanent_threshold or threshold
        self.failures = 0  # TEMPORARY or POLICY outcomes since the last SENT
        self.permanents = 0  # PERMANENT outcomes since the last SENT, TEMPORARY or POLICY
        self._reason = ""

    @property
    def open(self) -> bool:
        """True once the run should stop sending."""
        return bool(self._reason)

    @property
    def reason(self) -> str:
        """Why the breaker opened, for the log and the operator; empty while closed."""
        return self._reason

    def record(self, status: Status) -> bool:
        """Count one outcome; True if the breaker is (now) open."""
        if self._reason:
            return True
        if status is Status.SENT:
            self.failures = self.permanents = 0
        elif status is Status.PERMANENT:
            self.permanents += 1
        else:
            self.failures += 1
            self.permanents = 0
        if self.failures >= self.threshold:
            self._reason = f"{self.failures} sends in a row failed (temporary or policy)"
        elif self.permanents >= self.permanent_threshold:
            self._reason = (
                f"{self.permanents} addresses in a row were refused permanently: "
                "the relay may be refusing everything"
            )
        return bool(self._reason)

"""Retry backoff and the circuit breaker: pure, with a seeded random generator."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from digest.deliver.mailer import Status
from digest.deliver.policy import CircuitBreaker, next_attempt

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def delays(attempts: int, *, n: int = 500, base: float = 60.0, seed: int = 1) -> list[float]:
    rng = random.Random(seed)
    return [
        (next_attempt(attempts, now=NOW, base_seconds=base, rng=rng) - NOW).total_seconds()
        for _ in range(n)
    ]


@pytest.mark.parametrize("attempts", [1, 2, 3, 5, 8])
def test_the_delay_lies_between_base_and_base_times_two_to_the_attempts(attempts: int) -> None:
    values = delays(attempts)
    assert min(values) >= 60.0
    assert max(values) <= 60.0 * 2**attempts
    # Full jitter: the delays spread over the whole interval, not around one point.
    width = 60.0 * 2**attempts - 60.0
    assert max(values) - min(values) > 0.8 * width


def test_the_delay_grows_with_each_attempt() -> None:
    means = [sum(delays(attempts)) / 500 for attempts in range(1, 7)]
    assert means == sorted(means)
    assert means[-1] > 10 * means[0]


def test_the_delay_is_capped() -> None:
    rng = random.Random(3)
    for attempts in (12, 40, 1000):
        at = next_attempt(attempts, now=NOW, base_seconds=60, rng=rng, cap_seconds=3600)
        assert NOW + timedelta(seconds=60) <= at <= NOW + timedelta(seconds=3600)


def test_the_same_seed_gives_the_same_schedule() -> None:
    assert delays(3, n=20, seed=7) == delays(3, n=20, seed=7)
    assert delays(3, n=20, seed=7) != delays(3, n=20, seed=8)


def test_attempts_start_at_one() -> None:
    with pytest.raises(ValueError):
        next_attempt(0, now=NOW, base_seconds=60, rng=random.Random(1))
    with pytest.raises(ValueError):
        next_attempt(1, now=NOW, base_seconds=0, rng=random.Random(1))


def test_the_breaker_opens_after_threshold_failures_in_a_row() -> None:
    breaker = CircuitBreaker(3)
    assert not breaker.record(Status.TEMPORARY)
    assert not breaker.record(Status.POLICY)
    assert (breaker.open, breaker.reason) == (False, "")
    assert breaker.record(Status.TEMPORARY)
    assert breaker.open is True
    assert "3 sends in a row" in breaker.reason
    assert breaker.record(Status.SENT)  # stays open for the rest of the run


def test_a_sent_message_resets_the_count() -> None:
    breaker = CircuitBreaker(3)
    for status in [Status.TEMPORARY, Status.TEMPORARY, Status.SENT] * 5:
        breaker.record(status)
    assert not breaker.open
    assert breaker.failures == 0


def test_a_permanent_refusal_neither_counts_nor_resets_failures() -> None:
    breaker = CircuitBreaker(3)
    for status in [Status.TEMPORARY, Status.PERMANENT, Status.TEMPORARY, Status.PERMANENT]:
        assert not breaker.record(status)
    assert breaker.failures == 2
    assert breaker.record(Status.TEMPORARY)


def test_a_run_of_permanent_refusals_opens_the_breaker() -> None:
    breaker = CircuitBreaker(4)
    for _ in range(3):
        assert not breaker.record(Status.PERMANENT)
    assert breaker.record(Status.PERMANENT)
    assert "refused permanently" in breaker.reason


def test_scattered_permanent_refusals_do_not_open_it() -> None:
    breaker = CircuitBreaker(3, permanent_threshold=3)
    for status in [Status.PERMANENT, Status.PERMANENT, Status.SENT] * 10:
        breaker.record(status)
    assert not breaker.open


def test_the_threshold_must_be_positive() -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(0)

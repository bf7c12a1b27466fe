"""Signed tokens: one purpose each, forgery and expiry refused, stable where they do not expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from digest.tokens import Purpose, TokenError, TokenSubject, make_token, new_nonce, read_token

SECRET = "test-secret"
SUBJECT = TokenSubject(subscriber_id=42, nonce="a" * 32)
NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize("purpose", list(Purpose))
def test_a_token_reads_back_for_its_own_purpose_only(purpose: Purpose) -> None:
    token = make_token(SECRET, purpose, SUBJECT, now=NOW)
    assert read_token(SECRET, purpose, token, now=NOW) == SUBJECT
    for other in Purpose:
        if other is not purpose:
            with pytest.raises(TokenError):
                read_token(SECRET, other, token, now=NOW)


def test_another_secret_or_a_changed_character_is_refused() -> None:
    token = make_token(SECRET, Purpose.UNSUBSCRIBE, SUBJECT)
    with pytest.raises(TokenError):
        read_token("other-secret", Purpose.UNSUBSCRIBE, token)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    with pytest.raises(TokenError):
        read_token(SECRET, Purpose.UNSUBSCRIBE, tampered)
    for junk in ("", "x", "a.b.c", "é" * 10, "x" * 600):
        with pytest.raises(TokenError):
            read_token(SECRET, Purpose.UNSUBSCRIBE, junk)


def test_a_confirm_token_expires() -> None:
    token = make_token(SECRET, Purpose.CONFIRM, SUBJECT, now=NOW)
    later = NOW + timedelta(hours=47)
    assert read_token(SECRET, Purpose.CONFIRM, token, now=later, max_age_seconds=48 * 3600)
    with pytest.raises(TokenError, match="expired"):
        read_token(
            SECRET, Purpose.CONFIRM, token, now=NOW + timedelta(hours=49), max_age_seconds=48 * 3600
        )


def test_tokens_that_do_not_expire_are_stable_across_time() -> None:
    first = make_token(SECRET, Purpose.FEED, SUBJECT, now=NOW)
    second = make_token(SECRET, Purpose.FEED, SUBJECT, now=NOW + timedelta(days=30))
    assert first == second
    rotated = TokenSubject(subscriber_id=42, nonce=new_nonce())
    assert make_token(SECRET, Purpose.FEED, rotated) != first  # a new nonce, a new token


def test_nonces_are_128_bit_and_fresh() -> None:
    nonces = {new_nonce() for _ in range(100)}
    assert len(nonces) == 100
    assert all(len(nonce) == 32 for nonce in nonces)

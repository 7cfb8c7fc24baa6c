"""The shared call path: limits, retries honoring Retry-After, permanent errors not retried."""

import threading
import time
from datetime import UTC, datetime

import pytest

from connectors.calls import Caller, RateLimiter
from connectors.errors import Permanent, RateLimited, Transient
from connectors.retry_after import retry_after


def make_caller(translate=lambda exc: None, **kwargs):
    return Caller("svc", RateLimiter(rate=1000, burst=1000), translate, base_delay=0.01, **kwargs)


def test_transient_failures_are_retried_until_success():
    outcomes = iter([Transient("svc", "503"), Transient("svc", "timeout"), "ok"])

    def flaky():
        result = next(outcomes)
        if isinstance(result, Exception):
            raise result
        return result

    caller = make_caller()
    assert caller("read", flaky) == "ok"
    assert len(caller.waits) == 2


def test_permanent_failure_is_raised_at_once():
    calls = []

    def bad_token():
        calls.append(1)
        raise Permanent("svc", "invalid token")

    with pytest.raises(Permanent, match="invalid token"):
        make_caller()("read", bad_token)
    assert calls == [1]


def test_rate_limited_call_waits_the_retry_after_it_was_given():
    stamps = []

    def limited_once():
        stamps.append(time.monotonic())
        if len(stamps) == 1:
            raise RateLimited("svc", "429", retry_after=0.3)
        return "ok"

    caller = make_caller()
    assert caller("read", limited_once) == "ok"
    assert stamps[1] - stamps[0] >= 0.3
    assert caller.waits == [0.3]


def test_unknown_exceptions_are_treated_as_transient_and_give_up_after_the_attempts():
    def always_broken():
        raise ConnectionError("refused")

    caller = make_caller(attempts=3)
    with pytest.raises(Transient, match="ConnectionError"):
        caller("read", always_broken)
    assert len(caller.waits) == 2


def test_limiter_spaces_calls_to_its_rate():
    limiter = RateLimiter(rate=20, burst=1)
    start = time.monotonic()
    for _ in range(6):
        limiter.acquire()
    assert time.monotonic() - start >= 5 / 20 * 0.9


def test_retry_after_is_read_as_seconds_or_an_http_date_in_any_case():
    now = datetime(2026, 1, 15, 10, 0, 0, tzinfo=UTC)
    assert retry_after({"Retry-After": "3"}) == 3.0
    assert retry_after({"retry-after": "1.5"}) == 1.5  # a plain dict keeps the sender's case
    in_two_minutes = {"Retry-After": "Thu, 15 Jan 2026 10:02:00 GMT"}
    assert retry_after(in_two_minutes, now=lambda: now) == 120.0
    assert retry_after({"Retry-After": "Thu, 15 Jan 2026 09:00:00 GMT"}, now=lambda: now) == 0.0
    for unreadable in ({}, None, {"Retry-After": "soon"}, {"Retry-After": "-1"}):
        assert retry_after(unreadable) is None


def test_a_retry_after_on_any_transient_failure_holds_back_every_caller_of_the_limiter():
    caller = make_caller()
    failed_at, other_called_at = [], []
    other = threading.Timer(  # another thread's call, asked for while the pause runs
        0.05, lambda: caller("other", lambda: other_called_at.append(time.monotonic()))
    )

    def unavailable_once():
        if not failed_at:
            failed_at.append(time.monotonic())
            other.start()
            raise Transient("svc", "503", retry_after=0.3)
        return time.monotonic()

    retried_at = caller("read", unavailable_once)
    other.join()
    assert retried_at - failed_at[0] >= 0.3
    assert other_called_at[0] - failed_at[0] >= 0.3


def test_a_pause_longer_than_the_caller_waits_goes_back_to_the_job_queue_at_once():
    caller = make_caller(max_wait=5)
    calls = []

    def migrating():
        calls.append(1)
        raise Transient("svc", "477 migration in progress", retry_after=3600)

    started = time.monotonic()
    with pytest.raises(Transient) as caught:
        caller("read", migrating)
    assert calls == [1] and time.monotonic() - started < 1
    assert caught.value.retry_after == pytest.approx(3600, abs=5)
    with pytest.raises(Transient):  # every later call of the service waits too, unsent
        caller("read", lambda: calls.append(2))
    assert calls == [1]


def test_a_limiter_told_a_lower_rate_spaces_calls_to_it():
    limiter = RateLimiter(rate=1000, burst=1)
    limiter.set_rate(20)
    start = time.monotonic()
    for _ in range(6):
        limiter.acquire()
    assert time.monotonic() - start >= 5 / 20 * 0.9

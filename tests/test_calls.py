"""The shared call path: limits, retries honoring Retry-After, permanent errors not retried."""

import time

import pytest

from connectors.calls import Caller, RateLimiter
from connectors.errors import Permanent, RateLimited, Transient


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

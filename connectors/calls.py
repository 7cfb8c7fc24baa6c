"""The one call path every connector uses: client-side rate limit, retries, error translation."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from connectors.errors import ConnectorError, Permanent, RateLimited, Transient

T = TypeVar("T")
log = logging.getLogger(__name__)


class RateLimiter:
    """Blocks callers so one service sees at most ``rate`` calls a second on average."""

    def __init__(
        self, rate: float, burst: float = 1.0, sleep: Callable[[float], None] = time.sleep
    ):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = max(burst, 1.0)
        self._tokens = self.burst
        self._stamp = time.monotonic()
        self._lock = threading.Lock()
        self._sleep = sleep

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return
                wait = (1.0 - self._tokens) / self.rate
            self._sleep(wait)

    def pause(self, seconds: float) -> None:
        """Hold every caller back for ``seconds`` (the service said Retry-After)."""
        with self._lock:
            self._stamp = time.monotonic()
            self._tokens = min(self._tokens, 1.0 - seconds * self.rate)


class TTLCache:
    """Answers that rarely change (a person's id by email), kept a while to spare limited calls.

    A burst of kickoffs looks up the same CSM and AE again and again; each look-up costs a
    slot of a per-minute rate tier. Empty answers are not kept, so a person added later is
    found at the next try.
    """

    def __init__(self, seconds: float = 600.0) -> None:
        self.seconds = seconds
        self._values: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, compute: Callable[[], T]) -> T:
        now = time.monotonic()
        with self._lock:
            kept = self._values.get(key)
            if kept is not None and now - kept[0] < self.seconds:
                return kept[1]
        value = compute()
        if value is not None:
            with self._lock:
                self._values[key] = (now, value)
        return value


class Caller:
    """Runs SDK calls for one service: waits its turn, retries transient failures, translates."""

    def __init__(
        self,
        service: str,
        limiter: RateLimiter,
        translate: Callable[[Exception], ConnectorError | None],
        attempts: int = 6,
        base_delay: float = 0.5,
        max_delay: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.service = service
        self.limiter = limiter
        self.translate = translate
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.sleep = sleep
        self.waits: list[float] = []  # every back-off taken, for tests and benchmarks

    def __call__(self, action: str, func: Callable[[], T], limiter: RateLimiter | None = None) -> T:
        """Call ``func`` (one SDK request); ``action`` names it in errors and logs.

        ``limiter`` replaces the service's own for calls with a limit of their own (Slack tiers).
        """
        limiter = limiter or self.limiter
        for attempt in range(1, self.attempts + 1):
            limiter.acquire()
            try:
                return func()
            except Exception as exc:  # noqa: BLE001 - every SDK raises its own family
                error = self._typed(exc)
                if isinstance(error, Permanent) or attempt == self.attempts:
                    raise error from exc
                delay = self._delay(error, attempt)
                log.info(
                    "%s %s: %s; retry %d in %.2fs",
                    self.service,
                    action,
                    error.reason,
                    attempt,
                    delay,
                )
                self.waits.append(delay)
                if isinstance(error, RateLimited) and error.retry_after is not None:
                    limiter.pause(delay)  # the next acquire waits it out, for every caller
                else:
                    self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _typed(self, exc: Exception) -> ConnectorError:
        if isinstance(exc, ConnectorError):
            return exc
        error = self.translate(exc)
        if error is None:
            return Transient(self.service, f"{type(exc).__name__}: {exc}")
        return error

    def _delay(self, error: ConnectorError, attempt: int) -> float:
        if isinstance(error, RateLimited) and error.retry_after is not None:
            return float(error.retry_after)
        backoff = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return backoff * (0.5 + random.random() / 2)

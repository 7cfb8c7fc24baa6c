"""The one call path every connector uses: client-side rate limit, retries, error translation."""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from connectors.errors import ConnectorError, Permanent, Transient

T = TypeVar("T")
log = logging.getLogger(__name__)


# The longest Retry-After slept out in a worker thread. Notion's per-connection limit asks for at
# most 60 s (https://developers.notion.com/reference/request-limits); HubSpot's 477 can ask for
# hours (https://developers.hubspot.com/docs/api-reference/error-handling), which is the job
# queue's to wait, not a thread holding a job's lease.
MAX_WAIT = 60.0


class Paused(Exception):
    """The limiter is paused for longer than the caller will wait; ``seconds`` are left."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"paused for {seconds:.1f}s more")
        self.seconds = seconds


class RateLimiter:
    """Blocks callers so one service sees at most ``rate`` calls a second on average.

    ``clock`` and ``sleep`` are injectable so tests can run a limiter on virtual time.
    """

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = max(burst, 1.0)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._stamp = clock()
        self._resume_at = self._stamp
        self._lock = threading.Lock()

    def acquire(self, max_wait: float = math.inf) -> None:
        """Take a slot, sleeping until one is free; raises ``Paused`` instead of sleeping out
        a pause (a Retry-After) longer than ``max_wait``."""
        while True:
            with self._lock:
                now = self._clock()
                wait = self._resume_at - now
                if wait > max_wait:
                    raise Paused(wait)
                if wait <= 0:
                    self._refill(now)
                    if self._tokens >= 1.0:
                        self._tokens -= 1.0
                        return
                    wait = (1.0 - self._tokens) / self.rate
            self._sleep(wait)

    def pause(self, seconds: float) -> None:
        """Hold every caller back for ``seconds`` (the service said Retry-After); afterwards
        one call goes at once and the others follow at the rate, not in a burst."""
        with self._lock:
            now = self._clock()
            if now + seconds <= self._resume_at:
                return
            self._refill(now)
            self._tokens = min(self._tokens, 1.0)
            self._resume_at = self._stamp = now + seconds

    def set_rate(self, rate: float) -> None:
        """Change the average rate from now on (the service told us its real budget)."""
        if rate <= 0:
            raise ValueError("rate must be positive")
        with self._lock:
            self._refill(self._clock())
            self.rate = rate

    def _refill(self, now: float) -> None:
        if now > self._stamp:  # a pause moves the stamp to its end: nothing accrues before
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now


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
    """Runs SDK calls for one service: waits its turn, retries transient failures, translates.

    A Retry-After the service sent, on whatever status, pauses the limiter the call went
    through, so every thread using it waits it out, not only the one that was told.
    """

    def __init__(
        self,
        service: str,
        limiter: RateLimiter,
        translate: Callable[[Exception], ConnectorError | None],
        attempts: int = 6,
        base_delay: float = 0.5,
        max_delay: float = 30.0,
        max_wait: float = MAX_WAIT,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.service = service
        self.limiter = limiter
        self.translate = translate
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_wait = max_wait
        self.sleep = sleep
        self.waits: list[float] = []  # every back-off taken, for tests and benchmarks

    def __call__(self, action: str, func: Callable[[], T], limiter: RateLimiter | None = None) -> T:
        """Call ``func`` (one SDK request); ``action`` names it in errors and logs.

        ``limiter`` replaces the service's own for calls with a limit of their own (Slack tiers).
        """
        limiter = limiter or self.limiter
        for attempt in range(1, self.attempts + 1):
            self._acquire(limiter, action)
            try:
                return func()
            except Exception as exc:  # noqa: BLE001 - every SDK raises its own family
                error = self._typed(exc)
                asked = error.retry_after if isinstance(error, Transient) else None
                if asked is not None:
                    limiter.pause(asked)  # the next acquire waits it out, for every caller
                if isinstance(error, Permanent) or attempt == self.attempts:
                    raise error from exc
                delay = self._backoff(attempt) if asked is None else asked
                log.info(
                    "%s %s: %s; retry %d in %.2fs",
                    self.service,
                    action,
                    error.reason,
                    attempt,
                    delay,
                )
                self.waits.append(delay)
                if asked is None:
                    self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _acquire(self, limiter: RateLimiter, action: str) -> None:
        """Wait for the limiter; a pause too long to sleep out goes back to the job queue."""
        try:
            limiter.acquire(self.max_wait)
        except Paused as paused:
            message = f"{action}: the service asked for {paused.seconds:.0f}s of quiet"
            raise Transient(self.service, message, paused.seconds) from None

    def _typed(self, exc: Exception) -> ConnectorError:
        if isinstance(exc, ConnectorError):
            return exc
        error = self.translate(exc)
        if error is None:
            return Transient(self.service, f"{type(exc).__name__}: {exc}")
        return error

    def _backoff(self, attempt: int) -> float:
        backoff = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return backoff * (0.5 + random.random() / 2)

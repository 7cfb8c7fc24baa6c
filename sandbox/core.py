"""What every emulator shares: routing, the call log, injected faults, rate limits, a clock.

An emulator is a small WSGI app. Subclasses declare their routes, how they check credentials
and what their vendor's error and rate-limit answers look like; this base class records every
call, applies faults and enforces the limiter in the same order a real service would.
"""

from __future__ import annotations

import itertools
import json
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

CONTROL_PREFIX = "/_sandbox"


class Clock:
    """A timezone-aware clock that tests can pin or move forward without sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self._start = start
        self._offset = timedelta(0)
        self._frozen: datetime | None = start
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Back to how it was made: real time, or frozen at the start it was given."""
        with self._lock:
            self._offset, self._frozen = timedelta(0), self._start

    def now(self) -> datetime:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return datetime.now(UTC) + self._offset

    def set(self, moment: datetime) -> None:
        """Freeze the clock at ``moment`` (must be timezone-aware)."""
        if moment.tzinfo is None:
            raise ValueError("Clock.set needs a timezone-aware datetime")
        with self._lock:
            self._frozen = moment

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            if self._frozen is not None:
                self._frozen += delta
            else:
                self._offset += delta


@dataclass
class Call:
    """One request an emulator answered, as a test or the state page wants to see it."""

    service: str
    method: str
    path: str
    endpoint: str | None
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    status: int
    at: float
    fault: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Fault:
    """A fault switched on for a while: a share of calls, a number of calls or some seconds.

    ``after`` lets that many matching calls through first, so a test can break a paginated walk
    midway (fail the third page of a query, say).
    """

    kind: str  # "rate_limit" | "error" | "slow" | "timeout"
    share: float = 1.0
    calls: int | None = None
    seconds: float | None = None
    status: int = 503
    delay: float = 0.5
    # Seconds of Retry-After to send: an error sends none unless given; a rate limit sends 1.
    retry_after: float | None = None
    path_contains: str | None = None
    after: int = 0
    started: float = field(default_factory=time.monotonic)
    hits: int = 0
    passed: int = 0

    KINDS = ("rate_limit", "error", "slow", "timeout")

    def __post_init__(self) -> None:
        if self.kind not in self.KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {self.KINDS}")
        if not 0.0 <= self.share <= 1.0:
            raise ValueError("fault share must be between 0 and 1")

    def expired(self) -> bool:
        if self.calls is not None and self.hits >= self.calls:
            return True
        return self.seconds is not None and time.monotonic() - self.started >= self.seconds

    def applies_to(self, path: str) -> bool:
        return self.path_contains is None or self.path_contains in path


class Faults:
    """The faults in force on one emulator; deterministic for a given seed."""

    def __init__(self, seed: int = 0) -> None:
        self._faults: list[Fault] = []
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def add(self, kind: str, **options: Any) -> Fault:
        fault = Fault(kind=kind, **options)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def active(self) -> list[Fault]:
        with self._lock:
            self._faults = [f for f in self._faults if not f.expired()]
            return list(self._faults)

    def pick(self, path: str) -> Fault | None:
        """The fault to apply to this call, if any; counts the hit."""
        with self._lock:
            self._faults = [f for f in self._faults if not f.expired()]
            for fault in self._faults:
                if not fault.applies_to(path):
                    continue
                if fault.passed < fault.after:
                    fault.passed += 1
                elif self._random.random() < fault.share:
                    fault.hits += 1
                    return fault
        return None


class SlidingWindowLimit:
    """At most ``limit`` calls per ``window`` seconds per key (HubSpot's and Slack's model)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> float:
        """Record a call; return 0 when allowed, else the seconds until one would be."""
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] >= self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(self.window - (now - hits[0]), 0.001)
            hits.append(now)
            return 0.0

    def remaining(self, key: str, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.get(key, deque())
            return max(self.limit - sum(1 for t in hits if now - t < self.window), 0)


class TokenBucketLimit:
    """``rate`` calls a second on average with bursts up to ``burst`` (Notion's model)."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens: dict[str, float] = {}
        self._stamp: dict[str, float] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens = self._tokens.get(key, self.burst)
            tokens = min(self.burst, tokens + (now - self._stamp.get(key, now)) * self.rate)
            self._stamp[key] = now
            if tokens >= 1.0:
                self._tokens[key] = tokens - 1.0
                return 0.0
            self._tokens[key] = tokens
            return (1.0 - tokens) / self.rate


def command(func: Callable[..., Any]) -> Callable[..., Any]:
    """Mark an emulator method as a sandbox command, callable over HTTP as well as in Python."""
    func.is_sandbox_command = True  # type: ignore[attr-defined]
    return func


class Emulator:
    """Base of the four vendor emulators.

    Subclasses set ``name`` and implement ``routes()`` (werkzeug rules whose endpoint is the
    handler method's name), ``authenticate()``, ``error()`` and ``rate_limited()``; they may
    override ``limit_for()`` to say which limiter and key a call counts against.
    """

    name = "emulator"

    def __init__(self, clock: Clock | None = None, rate_scale: float = 1.0, seed: int = 0) -> None:
        self.clock = clock or Clock()
        self.rate_scale = rate_scale
        self.faults = Faults(seed)
        self.lock = threading.RLock()
        self._calls: list[Call] = []
        # Called with each answered call, before the answer leaves: tests use this to kill the
        # app at an exact point of a fan-out, after the service acted but before the app knew.
        self.observers: list[Callable[[Call], None]] = []
        self._ids = itertools.count(1)
        self._url_map = Map(list(self.routes()), strict_slashes=False)
        self.reset()

    # ----- to override ---------------------------------------------------------------
    def routes(self) -> Iterable[Rule]:
        return []

    def reset_state(self) -> None:
        """Forget every record (called on construction and by ``reset``)."""

    def authenticate(self, request: Request) -> Response | None:
        """Return an error response when the credentials are wrong, else None."""
        return None

    def error(self, status: int, code: str, message: str) -> Response:
        return self.json({"error": code, "message": message}, status)

    def rate_limited(self, retry_after: float, reason: str) -> Response:
        return self.error(429, "rate_limited", reason)

    def limit_for(self, request: Request, endpoint: str) -> tuple[Any, str] | None:
        """The (limiter, key) this call counts against, or None when it is not limited."""
        return None

    def snapshot(self) -> dict[str, Any]:
        """What the state page shows of this emulator."""
        return {}

    def decode_body(self, request: Request) -> Any:
        raw = request.get_data(cache=True)
        if not raw:
            return None
        if (request.mimetype or "").endswith("json"):
            try:
                return json.loads(raw)
            except ValueError:
                return raw.decode("utf-8", "replace")
        if request.mimetype == "application/x-www-form-urlencoded":
            return {k: v[0] if len(v) == 1 else v for k, v in parse_qs(raw.decode()).items()}
        return raw.decode("utf-8", "replace")

    # ----- helpers for subclasses ----------------------------------------------------
    @staticmethod
    def json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(
            json.dumps(payload), status=status, headers=headers, mimetype="application/json"
        )

    def next_id(self) -> int:
        return next(self._ids)

    def now(self) -> datetime:
        return self.clock.now()

    def reset(self) -> None:
        with self.lock:
            self._calls = []
            self._ids = itertools.count(1)
            self.faults.clear()
            self.observers.clear()
            self.reset_state()

    def calls(
        self, method: str | None = None, path_contains: str | None = None, status: int | None = None
    ) -> list[Call]:
        """Recorded calls, optionally filtered (control calls are never recorded)."""
        with self.lock:
            found = list(self._calls)
        return [
            c
            for c in found
            if (method is None or c.method == method)
            and (path_contains is None or path_contains in c.path)
            and (status is None or c.status == status)
        ]

    # ----- WSGI ----------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        if request.path.startswith(CONTROL_PREFIX):
            response = self._control(request)
        else:
            response = self._serve(request)
        return response(environ, start_response)

    def _serve(self, request: Request) -> Response:
        adapter = self._url_map.bind_to_environ(request.environ)
        endpoint: str | None = None
        fault_name: str | None = None
        try:
            endpoint, args = adapter.match()
        except HTTPException:
            response = self.error(404, "not_found", f"No route for {request.method} {request.path}")
        else:
            response = self.authenticate(request)
            if response is None:
                response, fault_name = self._apply_fault(request)
            if response is None:
                response = self._apply_limit(request, endpoint)
            if response is None:
                try:
                    response = getattr(self, endpoint)(request, **args)
                except ValueError as exc:
                    response = self.error(400, "bad_request", str(exc))
        self._record(request, endpoint, response.status_code, fault_name)
        return response

    def _apply_fault(self, request: Request) -> tuple[Response | None, str | None]:
        fault = self.faults.pick(request.path)
        if fault is None:
            return None, None
        if fault.kind == "rate_limit":
            wait = 1 if fault.retry_after is None else fault.retry_after
            return self.rate_limited(wait, "injected rate limit"), fault.kind
        if fault.kind == "error":
            response = self.error(fault.status, "injected_error", "injected server error")
            if fault.retry_after is not None:
                # RFC 9110 section 10.2.3: a 503 (or any answer) may say when to come back.
                response.headers["Retry-After"] = str(math.ceil(fault.retry_after))
            return response, fault.kind
        time.sleep(fault.delay)  # slow and timeout: the client decides whether it waits that long
        if fault.kind == "timeout":
            return self.error(504, "gateway_timeout", "injected timeout"), fault.kind
        return None, fault.kind

    def _apply_limit(self, request: Request, endpoint: str) -> Response | None:
        limit = self.limit_for(request, endpoint)
        if limit is None:
            return None
        limiter, key = limit
        wait = limiter.take(key)
        if wait > 0:
            return self.rate_limited(wait, f"rate limit of {key}")
        return None

    def _record(self, request: Request, endpoint: str | None, status: int, fault: str | None):
        call = Call(
            service=self.name,
            method=request.method,
            path=request.path,
            endpoint=endpoint,
            query={k: request.args.getlist(k) for k in request.args},
            headers={k: v for k, v in request.headers.items()},
            body=self.decode_body(request),
            status=status,
            at=time.time(),
            fault=fault,
        )
        with self.lock:
            self._calls.append(call)
        for observer in list(self.observers):
            observer(call)

    # ----- control surface (POST /_sandbox/<command>) --------------------------------
    def _control(self, request: Request) -> Response:
        name = request.path[len(CONTROL_PREFIX) :].strip("/") or "state"
        kwargs = request.get_json(silent=True) or {}
        try:
            result = self.run_command(name, **kwargs)
        except (TypeError, ValueError, KeyError, LookupError) as exc:
            return self.json({"ok": False, "error": f"{type(exc).__name__}: {exc}"}, 400)
        return self.json({"ok": True, "result": result})

    def run_command(self, name: str, **kwargs: Any) -> Any:
        """Run a sandbox command by name: the built-ins or a subclass's ``@command`` methods."""
        builtins: dict[str, Callable[..., Any]] = {
            "state": self.snapshot,
            "reset": self.reset,
            "calls": lambda **kw: [c.to_json() for c in self.calls(**kw)],
            "fault": lambda **kw: asdict(self.faults.add(**kw)),
            "clear_faults": self.faults.clear,
        }
        if name in builtins:
            return builtins[name](**kwargs)
        method = getattr(self, name, None)
        if method is None or not getattr(method, "is_sandbox_command", False):
            raise LookupError(f"{self.name} has no sandbox command {name!r}")
        return method(**kwargs)


def iso_millis(moment: datetime) -> str:
    """HubSpot-style UTC timestamp with milliseconds, e.g. 2024-11-22T10:00:00.000Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )

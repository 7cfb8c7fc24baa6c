"""HubSpot's rate limits: search's per-second limit, the ten-second burst and the daily count."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

from werkzeug.wrappers import Request, Response

from sandbox.core import SlidingWindowLimit, command
from sandbox.hubspot.access import bearer_token

TEN_SECONDS = 10.0
# (calls per token and 10 s, calls per account and day) by the account's tier, from HubSpot's
# usage guidelines (https://developers.hubspot.com/docs/guides/apps/api-usage/usage-details).
TIERS = {
    "free": (100, 250_000),
    "starter": (100, 250_000),
    "professional": (190, 625_000),
    "enterprise": (190, 1_000_000),
}
DEFAULT_TIER = "professional"
SEARCH_PER_SECOND = 4

RATE_MESSAGES = {
    "TEN_SECONDLY_ROLLING": "You have reached your secondly limit.",
    "SECONDLY": "You have reached your secondly limit.",
    "DAILY": "You have reached your daily limit.",
}


class RateLimits:
    """Counts each call against its token's limits and answers 429 the way HubSpot does."""

    default_tier: str
    tier: str
    _burst: SlidingWindowLimit
    _search_limit: SlidingWindowLimit
    _daily_limit: int
    _daily: tuple[date, int]

    def _reset_limits(self) -> None:
        self._set_tier(self.default_tier)
        self._search_limit = SlidingWindowLimit(
            max(1, round(SEARCH_PER_SECOND * self.rate_scale)), 1.0
        )
        self._daily = (self.now().date(), 0)

    @command
    def set_tier(self, tier: str) -> dict[str, int]:
        """Limit calls as an account of this tier does (until reset); returns its limits."""
        with self.lock:
            self._set_tier(tier)
            return {"per_ten_seconds": self._burst.limit, "daily": self._daily_limit}

    def _set_tier(self, tier: str) -> None:
        if tier not in TIERS:
            raise ValueError(f"unknown HubSpot tier {tier!r}; expected one of {sorted(TIERS)}")
        burst, daily = TIERS[tier]
        self.tier = tier
        self._burst = SlidingWindowLimit(max(1, round(burst * self.rate_scale)), TEN_SECONDS)
        self._daily_limit = max(1, round(daily * self.rate_scale))

    def rate_limited(
        self, retry_after: float, reason: str, policy: str = "TEN_SECONDLY_ROLLING"
    ) -> Response:
        """HubSpot's 429 body; the same for real limits and injected faults.

        Whether HubSpot sends Retry-After on API 429s is UNCONFIRMED: we choose to send it
        (whole seconds, rounded up). Clients must also cope with its absence.
        """
        body = {
            "status": "error",
            "message": RATE_MESSAGES[policy],
            "errorType": "RATE_LIMIT",
            "correlationId": self._uuid(),
            "policyName": policy,
            "requestId": self._uuid(),
        }
        return self.json(body, 429, headers={"Retry-After": str(max(1, math.ceil(retry_after)))})

    def _apply_limit(self, request: Request, endpoint: str) -> Response | None:
        """Search's own per-second limit, then the ten-second burst, then the daily count."""
        token = bearer_token(request)
        if token is None or endpoint == "token_info":
            return None
        now = self.now().timestamp()
        if endpoint == "search":
            wait = self._search_limit.take(token, now)
            if wait > 0:
                return self.rate_limited(wait, "search limit", policy="SECONDLY")
        wait = self._burst.take(token, now)
        if wait > 0:
            return self.rate_limited(wait, "burst limit")
        if not self._count_daily():
            midnight = datetime.combine(self.now().date() + timedelta(days=1), datetime.min.time())
            wait = (midnight.replace(tzinfo=UTC) - self.now()).total_seconds()
            return self.rate_limited(wait, "daily limit", policy="DAILY")
        return None

    def _count_daily(self) -> bool:
        """Count one call against the account's day (UTC midnight); False when over."""
        today = self.now().date()
        with self.lock:
            day, used = self._daily
            used = used if day == today else 0
            if used >= self._daily_limit:
                self._daily = (today, used)
                return False
            self._daily = (today, used + 1)
            return True

    def _serve(self, request: Request) -> Response:
        """Every answer to a known token carries the rate-limit headers (search excepted)."""
        response = super()._serve(request)
        token = bearer_token(request)
        # Search responses do not carry the headers (UNCONFIRMED); we leave them off so that
        # clients learn not to rely on them.
        if token in self._tokens and not request.path.endswith("/search"):
            response.headers.update(self._limit_headers(token))
        return response

    def _limit_headers(self, token: str) -> dict[str, str]:
        with self.lock:
            day, used = self._daily
        used = used if day == self.now().date() else 0
        return {
            "X-HubSpot-RateLimit-Max": str(self._burst.limit),
            "X-HubSpot-RateLimit-Remaining": str(
                self._burst.remaining(token, self.now().timestamp())
            ),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(TEN_SECONDS * 1000)),
            "X-HubSpot-RateLimit-Daily": str(self._daily_limit),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(self._daily_limit - used, 0)),
        }

"""HubSpot's rate budget, learned from the headers on its answers, so a process stays under it.

HubSpot's usage guidelines give a private app a burst budget per 10 seconds that depends on the
account's tier: 100 calls on Free and Starter, 190 on Professional and Enterprise
(https://developers.hubspot.com/docs/guides/apps/api-usage/usage-details). Its answers say
which applies, in X-HubSpot-RateLimit-Max (calls per interval) and
X-HubSpot-RateLimit-Interval-Milliseconds. The configured rate stays the ceiling; the limiter
is slowed to what the account allows.

Each process learns on its own: processes sharing one token share its budget, so each of them
should be configured with a share of it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from hubspot.discovery.discovery_base import DiscoveryBase

from connectors.calls import RateLimiter
from connectors.retry_after import header

MAX_HEADER = "X-HubSpot-RateLimit-Max"
INTERVAL_HEADER = "X-HubSpot-RateLimit-Interval-Milliseconds"
SAFETY = 0.9  # of the budget, for the calls a window can hold beyond the average
log = logging.getLogger(__name__)


class RateBudget:
    """Sets a limiter's rate from the budget HubSpot reports, never above the configured one."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter
        self.ceiling = limiter.rate
        self._known: tuple[float, float] | None = None

    def learn(self, headers: Any) -> None:
        """Read one answer's headers (search answers carry none: nothing to learn there)."""
        budget = _budget(headers)
        if budget is None or budget == self._known:
            return
        self._known = budget
        calls, seconds = budget
        # A full bucket spent at once plus a whole interval at the rate must fit the budget.
        usable = max(calls * SAFETY - self.limiter.burst, 1.0)
        rate = min(self.ceiling, usable / seconds)
        log.info(
            "HubSpot allows %g calls per %g s: calling at most %.2f a second", calls, seconds, rate
        )
        self.limiter.set_rate(rate)


def _budget(headers: Any) -> tuple[float, float] | None:
    """(calls, seconds) of the burst budget an answer reports, or None without both headers."""
    try:
        calls = float(header(headers, MAX_HEADER) or 0)
        seconds = float(header(headers, INTERVAL_HEADER) or 0) / 1000
    except ValueError:
        return None
    return (calls, seconds) if calls > 0 and seconds > 0 else None


class HeaderTap:
    """Stands in for an SDK client's urllib3 pool manager and shows each answer's headers."""

    def __init__(self, pool: Any, listen: Callable[[Any], None]) -> None:
        self._pool = pool
        self._listen = listen

    def request(self, *args: Any, **kwargs: Any) -> Any:
        response = self._pool.request(*args, **kwargs)
        self._listen(response.headers)
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


def listening_api_factory(listen: Callable[[Any], None]) -> Callable[[Any, str, dict], Any]:
    """An ``api_factory`` for ``HubSpot(...)``: the SDK's own, each API's answers tapped.

    The SDK hands back models, never headers; every generated API sends its requests through
    ``api_client.rest_client.pool_manager``, where the tap sees them all, errors included.
    """

    def factory(package: Any, api_name: str, config: dict) -> Any:
        api = DiscoveryBase._default_api_factory(package, api_name, config)
        rest = api.api_client.rest_client
        rest.pool_manager = HeaderTap(rest.pool_manager, listen)
        return api

    return factory

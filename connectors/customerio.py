"""Customer.io Track API through the customerio package, plus the segment calls it lacks."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from customerio import CustomerIO, CustomerIOException

from connectors.calls import Caller, RateLimiter
from connectors.errors import ConnectorError, NotFound, Permanent, RateLimited, Transient

SERVICE = "customerio"
SEGMENT_CHUNK = 1000  # the Track API's cap on ids per add_customers call
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def translate(exc: Exception) -> ConnectorError | None:
    """The SDK reports every failure as one exception whose text starts with the status."""
    if not isinstance(exc, CustomerIOException):
        return None
    text = str(exc)
    match = re.match(r"(\d{3}): (\S+)", text)
    if match is None:
        return Transient(SERVICE, text.splitlines()[0][:200])
    status = int(match.group(1))
    detail = f"{status} {match.group(2).split('?')[0]}"
    if status == 429:
        # Customer.io documents no Retry-After: back off exponentially instead.
        return RateLimited(SERVICE, detail, None)
    if status >= 500:
        return Transient(SERVICE, detail)
    if status == 401:
        return Permanent(SERVICE, f"{detail}: check CUSTOMERIO_SITE_ID and CUSTOMERIO_API_KEY")
    if status == 404:
        return NotFound(SERVICE, f"{detail}: unknown segment or route (CUSTOMERIO_SEGMENT_ID?)")
    return Permanent(SERVICE, detail)


def event_id(*parts: str) -> str:
    """A stable ULID-shaped id, so Customer.io drops a repeated event instead of sending twice."""
    number = int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:16], "big")
    # 128 bits in 26 Crockford base-32 characters, as a ULID is (so the first is 0-7).
    return "".join(_CROCKFORD[(number >> (5 * i)) & 31] for i in reversed(range(26)))


class CustomerIOConnector:
    """People, the onboarding segment and events, all idempotent on the Customer.io side."""

    def __init__(
        self,
        site_id: str,
        api_key: str,
        base_url: str,
        rate_per_second: float = 50.0,
        **caller_options: Any,
    ) -> None:
        self.client = CustomerIO(site_id, api_key, retries=0, timeout=10)
        # The SDK builds https://host URLs; every v1 method reads base_url, so point it here.
        self.client.base_url = base_url.rstrip("/")
        self.call = Caller(
            SERVICE, RateLimiter(rate_per_second, burst=10), translate, **caller_options
        )

    def identify(self, person_id: str, attributes: dict[str, Any]) -> None:
        self.call("identify", lambda: self.client.identify(id=person_id, **attributes))

    def add_to_segment(self, segment_id: str, person_ids: list[str]) -> None:
        url = f"{self.client.base_url}/segments/{segment_id}/add_customers"
        for start in range(0, len(person_ids), SEGMENT_CHUNK):
            ids = person_ids[start : start + SEGMENT_CHUNK]
            self.call(
                "add to segment",
                lambda i=ids: self.client.send_request("POST", url, {"ids": i}),
            )

    def region(self) -> dict[str, Any]:
        """The account's region for these credentials: a harmless credential check."""
        answer = self.call(
            "region",
            lambda: self.client.send_request("GET", f"{self.client.base_url}/accounts/region", {}),
        )
        return answer.json()

    def track(self, person_id: str, name: str, data: dict[str, Any], dedupe_key: str) -> str:
        """Send an event carrying a stable id; returns that id."""
        eid = event_id(dedupe_key, person_id, name)
        self.call("track", lambda: self.client.track(person_id, name, data=data, id=eid))
        return eid

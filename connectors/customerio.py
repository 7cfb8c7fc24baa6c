"""Customer.io Track API through the customerio package, plus the segment calls it lacks."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

import requests
from customerio import CustomerIO, CustomerIOException
from customerio.client_base import TCPKeepAliveHTTPAdapter

from connectors.calls import Caller, RateLimiter
from connectors.errors import ConnectorError, NotFound, Permanent, RateLimited, Transient
from connectors.retry_after import retry_after

SERVICE = "customerio"
SEGMENT_CHUNK = 1000  # the Track API's cap on ids per add_customers call
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class Refused(Exception):
    """A non-2xx answer with the status and headers the SDK's own exception leaves out."""

    def __init__(self, response: requests.Response) -> None:
        self.status = response.status_code
        self.path = urlsplit(response.url).path
        self.headers = response.headers
        super().__init__(f"{self.status}: {self.path}")


def refuse_errors(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """A response hook on the SDK's session: a non-2xx answer raises Refused, which the SDK
    wraps in its CustomerIOException as the ``__cause__``, headers (Retry-After) included."""
    if not 200 <= response.status_code < 300:
        response.close()  # its body is never read: do not leave the connection checked out
        raise Refused(response)


def translate(exc: Exception) -> ConnectorError | None:
    """The SDK reports every failure as one CustomerIOException; the answer is its cause."""
    if not isinstance(exc, CustomerIOException):
        return None
    refused = exc.__cause__
    if not isinstance(refused, Refused):  # no answer at all: the connection failed
        return Transient(SERVICE, str(exc).splitlines()[-1][:200])
    status, asked = refused.status, retry_after(refused.headers)
    detail = f"{status} {refused.path}"
    if status == 429:
        # Customer.io documents no Retry-After on 429: without one we back off exponentially.
        return RateLimited(SERVICE, detail, asked)
    if status >= 500:
        return Transient(SERVICE, detail, asked)
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
        # Our Caller retries. The SDK's adapter turns a 5xx into a RetryError that drops the
        # answer (even with retries=0), so one without status retries takes its place.
        session = self.client.http
        adapter = TCPKeepAliveHTTPAdapter(max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.hooks["response"].append(refuse_errors)
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

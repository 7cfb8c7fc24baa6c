"""The few failures the job runner understands, whatever service they come from."""

from __future__ import annotations


class ConnectorError(Exception):
    """A call to an external service failed; ``service`` says which, the message says why."""

    def __init__(self, service: str, message: str) -> None:
        super().__init__(f"{service}: {message}")
        self.service = service
        self.reason = message


class Transient(ConnectorError):
    """Worth retrying later: 5xx, timeouts, connection errors, rate limits.

    ``retry_after`` is the wait in seconds the service asked for (its Retry-After header, on
    whatever status carried it), or None when it named none and backing off is up to us.
    """

    def __init__(self, service: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(service, message)
        self.retry_after = retry_after


class RateLimited(Transient):
    """The service asked us to slow down (a 429, or Notion's 529 service_overload)."""


class Permanent(ConnectorError):
    """Retrying will not help until a person fixes something (token, scope, id, mapping)."""


class NotFound(Permanent):
    """The record asked for does not exist (or is not shared with the app)."""

"""Retry-After read one way for every vendor: delay-seconds or an HTTP-date.

RFC 9110 section 10.2.3 (https://www.rfc-editor.org/rfc/rfc9110#field.retry-after) gives the
header the same meaning on a 503 as on a 429 (RFC 6585) or any other answer: do not come back
before then. Each SDK hands headers over in its own mapping; this reads them all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any


def header(headers: Any, name: str) -> str | None:
    """One header's value from any SDK's headers (case-insensitive or a plain dict), or None."""
    if not headers or not hasattr(headers, "get"):
        return None
    value = headers.get(name)
    if value is None and isinstance(headers, dict):  # a plain dict keeps the sender's case
        wanted = name.lower()
        value = next((v for k, v in headers.items() if str(k).lower() == wanted), None)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    return None if value is None else str(value)


def retry_after(
    headers: Any, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> float | None:
    """Seconds the answer asks us to wait (0 for a date already past); None when it says none
    or says it in a form we cannot read."""
    value = (header(headers, "Retry-After") or "").strip()
    if not value:
        return None
    try:
        seconds = float(value)  # delay-seconds (Notion: "an integer number of seconds")
    except ValueError:
        return _until(value, now())
    return seconds if 0 <= seconds < float("inf") else None  # not NaN, infinite, negative


def _until(http_date: str, now: datetime) -> float | None:
    try:
        moment = parsedate_to_datetime(http_date)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # an HTTP-date is always GMT
        moment = moment.replace(tzinfo=UTC)
    return max((moment - now).total_seconds(), 0.0)

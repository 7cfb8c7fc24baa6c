"""HubSpot's webhook signatures (v3, else v1/v2), checked with the SDK's own algorithms."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

from hubspot.exceptions import InvalidSignatureVersionError
from hubspot.utils.signature import Signature

MAX_AGE_SECONDS = 300

# HubSpot decodes exactly these escapes in the URI before signing (see reference, section 2).
_DECODED_ESCAPES = {
    "%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$",
    "%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";",
}  # fmt: skip


class InvalidSignature(Exception):
    """The request was not signed by HubSpot with our client secret (or is too old)."""


def signed_uri(uri: str) -> str:
    """The URI as HubSpot signs it: a fixed set of percent-escapes decoded, others left alone."""
    for escape, char in _DECODED_ESCAPES.items():
        uri = uri.replace(escape, char).replace(escape.lower(), char)
    return uri


def verify_hubspot_signature(
    *,
    client_secret: str,
    method: str,
    uri: str,
    body: bytes,
    headers: Mapping[str, str],
    now: float | None = None,
    max_age: int = MAX_AGE_SECONDS,
    require_v3: bool = False,
) -> str:
    """Raise InvalidSignature unless the request is HubSpot's; return the version that matched.

    v1/v2 (no timestamp, so replayable) are accepted unless ``require_v3``."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidSignature("body is not UTF-8") from exc
    v3 = headers.get("X-HubSpot-Signature-v3")
    if v3:
        timestamp = headers.get("X-HubSpot-Request-Timestamp", "")
        _check_fresh("X-HubSpot-Request-Timestamp", timestamp, 1000, now, max_age)
        return _check(v3, client_secret, text, signed_uri(uri), method, "v3", timestamp)
    if require_v3:
        raise InvalidSignature(
            "no X-HubSpot-Signature-v3 header, and REQUIRE_HUBSPOT_V3_SIGNATURES refuses v1/v2"
        )
    signature = headers.get("X-HubSpot-Signature")
    if not signature:
        raise InvalidSignature("no X-HubSpot-Signature-v3 or X-HubSpot-Signature header")
    version = headers.get("X-HubSpot-Signature-Version", "v1").lower()
    if version not in ("v1", "v2"):
        raise InvalidSignature(f"unsupported signature version {version!r}")
    return _check(signature, client_secret, text, uri, method, version, None)


def _check_fresh(
    header: str, timestamp: str | None, per_second: int, now: float | None, max_age: int
) -> None:
    """Refuse a missing, non-numeric or stale timestamp. The arithmetic is on integers, so a
    400-digit timestamp is merely stale (as a float it overflowed into a 500)."""
    try:
        sent = int(timestamp or "")
    except ValueError as exc:
        raise InvalidSignature(f"{header} is missing or not a number") from exc
    current = int((time.time() if now is None else now) * per_second)
    if abs(current - sent) > max_age * per_second:
        raise InvalidSignature(f"{header} is more than {max_age} s away from now")


def _matches(expected: str, given: str) -> bool:
    """Constant-time comparison; a header with non-ASCII characters, which compare_digest
    refuses with a TypeError, simply does not match."""
    return given.isascii() and hmac.compare_digest(expected, given)


def _check(
    signature: str, secret: str, body: str, uri: str, method: str, version: str, ts: str | None
) -> str:
    # The SDK computes; we compare. (Its is_valid would re-check the timestamp against the wall
    # clock, which _check_fresh already did with the clock the caller gave.)
    try:
        expected = Signature.get_signature(secret, body, version, uri, method, ts)
    except InvalidSignatureVersionError as exc:
        raise InvalidSignature(str(exc)) from exc
    if not _matches(expected, signature):
        raise InvalidSignature(f"{version} signature does not match")
    return version


def verify_notion_signature(token: str, body: bytes, header: str | None) -> None:
    """Raise InvalidSignature unless ``X-Notion-Signature`` is sha256=HMAC(token, raw body)."""
    if not header or not header.startswith("sha256="):
        raise InvalidSignature("no X-Notion-Signature: sha256=... header")
    expected = hmac.new(token.encode(), body, hashlib.sha256).hexdigest()
    if not _matches(expected, header.removeprefix("sha256=")):
        raise InvalidSignature("Notion signature does not match")


def verify_customerio_signature(
    key: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    now: float | None = None,
    max_age: int = MAX_AGE_SECONDS,
) -> None:
    """Raise InvalidSignature unless X-CIO-Signature is hex HMAC-SHA256 of "v0:ts:body".

    Customer.io documents no replay window; 5 minutes, as for HubSpot, is our choice.
    """
    if not timestamp or not signature:
        raise InvalidSignature("no X-CIO-Timestamp or X-CIO-Signature header")
    _check_fresh("X-CIO-Timestamp", timestamp, 1, now, max_age)
    message = b"v0:" + timestamp.encode() + b":" + body
    expected = hmac.new(key.encode(), message, hashlib.sha256).hexdigest()
    if not _matches(expected, signature.strip().lower()):
        raise InvalidSignature("Customer.io signature does not match")

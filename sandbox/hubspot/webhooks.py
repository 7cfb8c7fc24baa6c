"""HubSpot's side of a webhook subscription: builds, signs and POSTs event batches like HubSpot."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import itertools
import json
import random
import threading
import time
from datetime import datetime
from typing import Any

import requests

from sandbox.core import Clock, iso_millis
from sandbox.hubspot.account import APP_ID, HUB_ID
from sandbox.hubspot.values import epoch_ms

USER_AGENT = "HubSpot Connect 2.0 (http://dev.hubspot.com/)"
MAX_EVENTS_PER_REQUEST = 100
TIMEOUT_SECONDS = 5.0  # HubSpot counts a batch as failed when the answer takes longer than 5 s
MAX_ATTEMPTS = 10  # HubSpot retries a failed batch up to 10 times
DEFAULT_SOURCE_USER = 7654321

# The only escapes HubSpot's v3 rule decodes before signing (its request-validation docs).
_URI_ESCAPES = {
    "%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$",
    "%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";",
}  # fmt: skip


def signing_uri(url: str) -> str:
    """The URI as HubSpot signs it: only the listed percent-escapes decoded, others kept."""
    for escape, char in _URI_ESCAPES.items():
        url = url.replace(escape, char).replace(escape.lower(), char)
    return url


class HubSpotWebhookSender:
    """Delivers webhook events to one target URL, signed with one app's client secret."""

    def __init__(
        self,
        target_url: str,
        client_secret: str,
        app_id: int = APP_ID,
        portal_id: int = HUB_ID,
        clock: Clock | None = None,
        *,
        signature_version: str = "v1",
        send_v3: bool = True,
        seed: int = 0,
    ) -> None:
        if signature_version not in ("v1", "v2"):
            raise ValueError("X-HubSpot-Signature is v1 or v2; v3 has its own header")
        self.target_url = target_url
        self.client_secret = client_secret
        self.app_id = app_id
        self.portal_id = portal_id
        self.clock = clock or Clock()
        self.signature_version = signature_version
        self.send_v3 = send_v3
        self.deliveries: list[dict[str, Any]] = []
        self._event_ids = itertools.count(1803426011)
        self._subscription_ids: dict[tuple[str, str | None], int] = {}
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    # ----- events ----------------------------------------------------------------------
    def subscription_id(self, subscription_type: str, property_name: str | None = None) -> int:
        """A stable id per (type, property), as a subscription keeps its id in HubSpot."""
        key = (subscription_type, property_name)
        with self._lock:
            if key not in self._subscription_ids:
                self._subscription_ids[key] = 2411199 + len(self._subscription_ids)
            return self._subscription_ids[key]

    def event(
        self,
        subscription_type: str,
        object_id: int | str,
        *,
        property_name: str | None = None,
        property_value: str | None = None,
        change_source: str = "CRM_UI",
        occurred_at: datetime | int | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """One event with every field HubSpot sends for a classic ``<object>.<event>`` type.

        ``isSensitive`` (UNCONFIRMED, sometimes present) is left out; pass it in ``extra``.
        """
        if occurred_at is None:
            occurred_at = self.clock.now()
        if isinstance(occurred_at, datetime):
            occurred_at = epoch_ms(occurred_at)
        with self._lock:
            event_id = next(self._event_ids)
        event: dict[str, Any] = {
            "eventId": event_id,
            "subscriptionId": self.subscription_id(subscription_type, property_name),
            "portalId": self.portal_id,
            "appId": self.app_id,
            "occurredAt": occurred_at,
            "subscriptionType": subscription_type,
            "attemptNumber": 0,
            "objectId": int(object_id),
        }
        if subscription_type.endswith(".propertyChange"):
            event["propertyName"] = property_name
            event["propertyValue"] = "" if property_value is None else str(property_value)
        if subscription_type.endswith(".creation"):
            # Docs' test payload says "NEW", real captures say "CREATED" (UNCONFIRMED): we send
            # what deliveries carry.
            event["changeFlag"] = "CREATED"
        event["changeSource"] = change_source
        event["sourceId"] = f"userId:{DEFAULT_SOURCE_USER}"
        event.update(extra)
        return event

    # ----- signing ---------------------------------------------------------------------
    def sign(self, method: str, uri: str, body: bytes, timestamp_ms: int) -> dict[str, str]:
        """Every header HubSpot puts on a delivery, signatures included.

        Written from HubSpot's published algorithms with hashlib/hmac, not with
        ``hubspot.utils.signature``, so that tests can hold the sender against the SDK's
        validator and against an independent implementation.
        """
        secret = self.client_secret.encode()
        uri = signing_uri(uri)
        if self.signature_version == "v1":
            legacy_source = secret + body
        else:
            legacy_source = secret + method.encode() + uri.encode() + body
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-HubSpot-Signature": hashlib.sha256(legacy_source).hexdigest(),
            "X-HubSpot-Signature-Version": self.signature_version,
            "X-HubSpot-Request-Timestamp": str(timestamp_ms),
        }
        if self.send_v3:
            source = method.encode() + uri.encode() + body + str(timestamp_ms).encode()
            digest = hmac.new(secret, source, hashlib.sha256).digest()
            headers["X-HubSpot-Signature-v3"] = base64.b64encode(digest).decode()
        return headers

    # ----- delivery --------------------------------------------------------------------
    def deliver(
        self,
        events: list[dict[str, Any]],
        attempt: int | None = None,
        shuffle: bool = False,
        timestamp_ms: int | None = None,
    ) -> requests.Response:
        """POST one batch to the target URL, as HubSpot does (5 s timeout, at most 100 events)."""
        if len(events) > MAX_EVENTS_PER_REQUEST:
            raise ValueError(f"HubSpot sends at most {MAX_EVENTS_PER_REQUEST} events per request")
        batch = copy.deepcopy(events)
        if attempt is not None:
            for event in batch:
                event["attemptNumber"] = attempt
        if shuffle:
            with self._lock:
                self._random.shuffle(batch)
        body = json.dumps(batch, separators=(",", ":")).encode()
        if timestamp_ms is None:
            timestamp_ms = epoch_ms(self.clock.now())
        headers = self.sign("POST", self.target_url, body, timestamp_ms)
        record: dict[str, Any] = {
            "at": iso_millis(self.clock.now()),
            "attempt": max((e.get("attemptNumber", 0) for e in batch), default=0),
            "events": batch,
            "status": None,
        }
        try:
            response = requests.post(
                self.target_url, data=body, headers=headers, timeout=TIMEOUT_SECONDS
            )
        except requests.RequestException as exc:
            record["error"] = f"{type(exc).__name__}: {exc}"
            raise
        else:
            record["status"] = response.status_code
            return response
        finally:
            with self._lock:
                self.deliveries.append(record)

    def redeliver(self, events: list[dict[str, Any]]) -> requests.Response:
        """Send the same events again, each with ``attemptNumber`` one higher."""
        again = [{**e, "attemptNumber": e.get("attemptNumber", 0) + 1} for e in events]
        return self.deliver(again)

    def deliver_until_accepted(
        self, events: list[dict[str, Any]], delay: float = 0.2, attempts: int = MAX_ATTEMPTS
    ) -> bool:
        """HubSpot's retry loop, squeezed in time: redeliver on non-2xx or timeout.

        HubSpot spreads its 10 attempts over 24 hours; the sandbox waits ``delay`` x attempt.
        """
        batch = [{**e, "attemptNumber": 0} for e in events]
        for attempt in range(attempts):
            if attempt:
                time.sleep(delay * attempt)
            try:
                response = self.deliver(batch, attempt=attempt)
            except requests.RequestException:
                continue
            if 200 <= response.status_code < 300:
                return True
        return False

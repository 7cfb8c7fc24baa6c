"""Customer.io's reporting webhooks, sent signed to the app as Customer.io would send them.

Signature per the reference (section 5): ``X-CIO-Signature`` is the hex HMAC-SHA256, keyed by
the webhook's signing key, of ``"v0:" + X-CIO-Timestamp + ":" + raw body``.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
from typing import Any

import requests

from sandbox.core import Clock

EMAIL_METRICS = ("delivered", "opened", "clicked", "bounced")
ULID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32, as ULIDs use


def _ulid(millis: int) -> str:
    """A ULID-looking event id: 10 characters of time, 16 of randomness."""
    chars = [ULID_ALPHABET[(millis >> shift) & 31] for shift in range(45, -1, -5)]
    chars += [secrets.choice(ULID_ALPHABET) for _ in range(16)]
    return "".join(chars)


def sign(signing_key: str, timestamp: str, body: bytes) -> str:
    """The X-CIO-Signature for one request."""
    message = b"v0:" + timestamp.encode() + b":" + body
    return hmac.new(signing_key.encode(), message, hashlib.sha256).hexdigest()


class CustomerIOWebhookSender:
    """Posts email reporting events for a customer to one webhook URL, signed."""

    def __init__(self, target_url: str, signing_key: str, clock: Clock | None = None) -> None:
        self.target_url = target_url
        self.signing_key = signing_key
        self.clock = clock or Clock()
        self._deliveries = itertools.count(1)

    def payload(self, metric: str, customer_id: str, email: str, **data: Any) -> dict[str, Any]:
        """The body Customer.io sends for an email `metric`; `data` overrides or adds fields."""
        if metric not in EMAIL_METRICS:
            raise ValueError(f"unknown email metric {metric!r}; expected one of {EMAIL_METRICS}")
        now = self.clock.now()
        fields: dict[str, Any] = {
            "customer_id": customer_id,
            "identifiers": {"id": customer_id, "email": email, "cio_id": f"cio{customer_id}"},
            "email_address": email,
            "recipient": email,
            "delivery_id": f"sandbox-delivery-{next(self._deliveries)}",
            "campaign_id": 1,
            "action_id": 1,
            "broadcast_id": None,
            "transactional_message_id": None,
            "journey_id": None,
            "parent_action_id": None,
            "trigger_event_id": None,
            "subject": "Welcome",
        }
        if metric == "clicked":
            fields.update(href="https://example.com/start", link_id=1, machine=False)
        if metric == "opened":
            fields["machine"] = False
        if metric == "bounced":
            fields["failure_message"] = "550 5.1.1 mailbox does not exist"
        fields.update(data)
        return {
            "event_id": _ulid(int(now.timestamp() * 1000)),
            "object_type": "email",
            "metric": metric,
            "timestamp": int(now.timestamp()),
            "data": fields,
        }

    def send(
        self, metric: str, customer_id: str, email: str, timeout: float = 4.0, **data: Any
    ) -> requests.Response:
        """Post one signed event; Customer.io gives the receiver 4 seconds."""
        body = json.dumps(self.payload(metric, customer_id, email, **data)).encode()
        timestamp = str(int(self.clock.now().timestamp()))
        headers = {
            "Content-Type": "application/json",
            "X-CIO-Timestamp": timestamp,
            "X-CIO-Signature": sign(self.signing_key, timestamp, body),
        }
        return requests.post(self.target_url, data=body, headers=headers, timeout=timeout)

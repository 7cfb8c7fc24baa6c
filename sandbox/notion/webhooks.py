"""Notion's integration webhooks, sent by the sandbox to the app: the handshake, then signed events.

Shapes follow developers.notion.com (webhooks, event types & delivery): one unsigned
``{"verification_token": ...}`` POST when the subscription is created, then events signed with
``X-Notion-Signature: sha256=<hex HMAC-SHA256(key=verification_token, msg=raw body)>``.
Events are signals only (no changed values); the app fetches the page afterwards.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

import requests

API_VERSION = "2025-09-03"
VERIFICATION = "verification"


def sign(raw_body: bytes, verification_token: str) -> str:
    """The ``X-Notion-Signature`` value Notion puts on an event body."""
    digest = hmac.new(verification_token.encode(), raw_body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


@dataclass
class Delivery:
    """One POST to the app, as the state page and tests want to see it."""

    kind: str  # "verification" or the event type
    body: dict[str, Any]
    headers: dict[str, str]
    attempt: int
    status: int | None
    error: str | None
    at: float = field(default_factory=time.time)


class NotionWebhookSender:
    """A webhook subscription: posts from a background thread and records every attempt.

    One worker delivers in the order changes happened, so the handshake always comes first
    (real Notion may deliver late or out of order; the app must not rely on order).
    """

    def __init__(
        self,
        target_url: str,
        verification_token: str,
        *,
        workspace_id: str | None = None,
        workspace_name: str = "Sandbox workspace",
        integration_id: str | None = None,
        max_attempts: int = 3,
        retry_delay: float = 0.5,
        timeout: float = 5.0,
    ) -> None:
        self.target_url = target_url
        self.verification_token = verification_token
        self.subscription_id = str(uuid.uuid4())
        self.workspace_id = workspace_id or str(uuid.uuid4())
        self.workspace_name = workspace_name
        self.integration_id = integration_id or str(uuid.uuid4())
        # Notion retries failed deliveries with back-off, up to ~8 attempts (UNCONFIRMED);
        # the sandbox keeps it to a few quick attempts so tests and demos stay short.
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.timeout = timeout
        self._deliveries: list[Delivery] = []
        self._queue: queue.Queue[tuple[str, dict[str, Any], int]] = queue.Queue()
        self._idle = threading.Condition()
        self._pending = 0
        self._worker: threading.Thread | None = None

    def handshake(self) -> None:
        """Send the one unsigned verification request Notion makes on subscription."""
        self._start(VERIFICATION, {"verification_token": self.verification_token}, 1)

    def on_change(
        self,
        event_type: str,
        entity: dict[str, Any],
        data: dict[str, Any],
        authors: list[dict[str, Any]],
        timestamp: str,
    ) -> dict[str, Any]:
        """Sign and send one event (e.g. ``page.properties_updated``); returns its body."""
        event = {
            "id": str(uuid.uuid4()),
            "timestamp": timestamp,
            "workspace_id": self.workspace_id,
            "workspace_name": self.workspace_name,
            "subscription_id": self.subscription_id,
            "integration_id": self.integration_id,
            "type": event_type,
            "authors": authors,
            "attempt_number": 1,
            "api_version": API_VERSION,
            "entity": entity,
            "data": data,
        }
        self._start(event_type, event, self.max_attempts)
        return event

    def deliveries(self) -> list[dict[str, Any]]:
        """Every attempt so far, oldest first."""
        with self._idle:
            return [asdict(d) for d in self._deliveries]

    def wait(self, timeout: float = 5.0) -> bool:
        """Block until every delivery queued so far is done; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _start(self, kind: str, body: dict[str, Any], attempts: int) -> None:
        with self._idle:
            self._pending += 1
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, daemon=True)
                self._worker.start()
        self._queue.put((kind, body, attempts))

    def _work(self) -> None:
        while True:
            kind, body, attempts = self._queue.get()
            try:
                self._deliver(kind, body, attempts)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _deliver(self, kind: str, body: dict[str, Any], attempts: int) -> None:
        for attempt in range(1, attempts + 1):
            if kind != VERIFICATION:
                body = {**body, "attempt_number": attempt}
            status, error, headers = self._post(kind, body)
            with self._idle:
                self._deliveries.append(Delivery(kind, body, headers, attempt, status, error))
            if status is not None and 200 <= status < 300:
                return
            if attempt < attempts:
                time.sleep(self.retry_delay * 2 ** (attempt - 1))

    def _post(self, kind: str, body: dict[str, Any]) -> tuple[int | None, str | None, dict]:
        raw = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "notion-api"}
        if kind != VERIFICATION:  # the handshake carries no signature
            headers["X-Notion-Signature"] = sign(raw, self.verification_token)
        try:
            response = requests.post(
                self.target_url, data=raw, headers=headers, timeout=self.timeout
            )
        except requests.RequestException as exc:
            return None, f"{type(exc).__name__}: {exc}", headers
        return response.status_code, None, headers

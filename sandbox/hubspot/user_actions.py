"""A person acting in the CRM UI, and the webhooks those actions send to a subscribed app."""

from __future__ import annotations

import threading
from typing import Any

from sandbox.core import command
from sandbox.hubspot.account import APP_ID, HUB_ID, SINGULAR, canonical_type
from sandbox.hubspot.webhooks import HubSpotWebhookSender


class UserActions:
    """Edits and deletions made as a user, delivered as webhook batches in the background."""

    webhook_retry_delay: float
    _sender: HubSpotWebhookSender
    _subscriptions: list[dict[str, Any]]
    _webhook_threads: list[threading.Thread]

    def _reset_webhooks(self) -> None:
        self._sender = HubSpotWebhookSender("", "", clock=self.clock, seed=self.seed)
        self._subscriptions = []
        self._webhook_threads = []

    @command
    def configure_webhooks(
        self,
        target_url: str,
        client_secret: str,
        app_id: int = APP_ID,
        portal_id: int = HUB_ID,
        subscriptions: list[Any] | None = None,
    ) -> dict[str, Any]:
        """Subscribe a target URL, as the private app's Webhooks tab does.

        Subscriptions are "deal.creation"-like strings or dicts with subscriptionType and an
        optional propertyName; by default deal creation, deletion and dealstage changes.
        """
        chosen = subscriptions or [
            "deal.creation",
            "deal.deletion",
            {"subscriptionType": "deal.propertyChange", "propertyName": "dealstage"},
        ]
        with self.lock:
            self._sender = HubSpotWebhookSender(
                target_url, client_secret, app_id, portal_id, clock=self.clock, seed=self.seed
            )
            self._subscriptions = [
                {"subscriptionType": s} if isinstance(s, str) else dict(s) for s in chosen
            ]
        return {"targetUrl": target_url, "subscriptions": self._subscriptions}

    @command
    def update_as_user(
        self, object_type: str, object_id: str, properties: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """A person edits a record in the CRM UI; returns the events HubSpot would emit."""
        object_type = canonical_type(object_type)
        with self.lock:
            record = self._get_or_404(object_type, object_id)
            changed = self._apply(record, self._clean(object_type, properties))
            events = [
                self._sender.event(
                    f"{SINGULAR[object_type]}.propertyChange",
                    record.id,
                    property_name=name,
                    property_value=value,
                )
                for name, value in changed.items()
            ]
        self._dispatch(events)
        return events

    @command
    def delete_as_user(self, object_type: str, object_id: str) -> list[dict[str, Any]]:
        """A person deletes (archives) a record; returns the deletion event."""
        object_type = canonical_type(object_type)
        with self.lock:
            record = self._get_or_404(object_type, object_id)
            record.archived_at = record.updated = self.now()
            events = [self._sender.event(f"{SINGULAR[object_type]}.deletion", record.id)]
        self._dispatch(events)
        return events

    @command
    def merge_as_user(self, object_type: str, primary_id: str, merged_id: str) -> list[dict]:
        """A person merges one record into another: the merged-away id is gone (a deletion
        event for it) and a merge event names both; the primary keeps its id."""
        object_type = canonical_type(object_type)
        singular = SINGULAR[object_type]
        with self.lock:
            primary = self._get_or_404(object_type, primary_id)
            merged = self._get_or_404(object_type, merged_id)
            merged.archived_at = merged.updated = primary.updated = self.now()
            events = [
                self._sender.event(f"{singular}.deletion", merged.id),
                self._sender.event(
                    f"{singular}.merge",
                    primary.id,
                    primaryObjectId=int(primary.id),
                    mergedObjectIds=[int(merged.id)],
                    newObjectId=int(primary.id),
                    numberOfPropertiesMoved=0,
                ),
            ]
        self._dispatch(events)
        return events

    def _subscribed(self, event: dict[str, Any]) -> bool:
        return any(
            s["subscriptionType"] == event["subscriptionType"]
            and s.get("propertyName") in (None, event.get("propertyName"))
            for s in self._subscriptions
        )

    def _dispatch(self, events: list[dict[str, Any]]) -> None:
        """Deliver the subscribed events in one batch, in the background, retrying like HubSpot."""
        with self.lock:
            batch = [e for e in events if self._subscribed(e)]
            if not batch or not self._sender.target_url:
                return
            thread = threading.Thread(
                target=self._sender.deliver_until_accepted,
                args=(batch,),
                kwargs={"delay": self.webhook_retry_delay},
                daemon=True,
            )
            self._webhook_threads.append(thread)
        thread.start()

    @command
    def wait_for_webhooks(self, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until background deliveries end (accepted or out of attempts); list them all."""
        with self.lock:
            threads = list(self._webhook_threads)
        for thread in threads:
            thread.join(timeout)
        return self.webhook_deliveries()

    def webhook_deliveries(self) -> list[dict[str, Any]]:
        """Every webhook request sent so far, with its attempt number and answer status."""
        return list(self._sender.deliveries)

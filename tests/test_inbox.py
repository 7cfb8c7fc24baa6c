"""The durable inbox, on SQLite and (with TEST_POSTGRES_URL) PostgreSQL: each event kept once."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from sync.intake.inbox import MalformedBatch, store_hubspot_batch
from sync.store.models import InboxEvent


def event(event_id: int, object_id: int = 7, **extra) -> dict:
    return {"eventId": event_id, "subscriptionId": 1, "portalId": 2, "appId": 3,
            "occurredAt": 1795780800000 + event_id, "subscriptionType": "deal.propertyChange",
            "attemptNumber": 0, "objectId": object_id, "propertyName": "dealstage",
            "propertyValue": "closedwon", **extra}  # fmt: skip


def test_inbox_keeps_each_event_once_and_counts_redeliveries(store):
    body = json.dumps([event(1), event(2), event(1)]).encode()
    first = store_hubspot_batch(store, body)
    again = store_hubspot_batch(store, json.dumps([event(1, attemptNumber=1)]).encode())
    assert (first.new, first.duplicates) == (2, 1)
    assert (again.new, again.duplicates) == (0, 1)
    with store.session() as session:
        rows = {
            r.dedupe_key.split(":")[2]: r.deliveries for r in session.scalars(select(InboxEvent))
        }
    assert rows == {"1": 3, "2": 1}


def test_times_come_back_timezone_aware_in_utc(store):
    store_hubspot_batch(store, json.dumps([event(5)]).encode())
    with store.session() as session:
        row = session.scalar(select(InboxEvent))
    assert row.occurred_at == datetime(2026, 11, 27, 12, 0, 0, 5000, tzinfo=UTC)


def test_a_body_that_is_not_json_is_kept_as_malformed_and_refused(store):
    for body, problem in ((b"[{", "body is not valid JSON"), (b"[" * 100_000, "nested too deeply")):
        with pytest.raises(MalformedBatch, match=problem):
            store_hubspot_batch(store, body)
    with store.session() as session:
        kept = session.scalars(select(InboxEvent.note).where(InboxEvent.status == "malformed"))
        assert len(kept.all()) == 2


def test_an_event_missing_its_fields_is_kept_malformed_beside_the_good_ones(store):
    received = store_hubspot_batch(store, json.dumps([event(1), {"eventId": 9}]).encode())
    assert (received.new, received.malformed) == (2, 1)
    with store.session() as session:
        rows = {row.status: row.note for row in session.scalars(select(InboxEvent))}
    assert rows["malformed"] == "missing objectId, occurredAt"
    assert rows["pending"] is None


@pytest.mark.parametrize(
    "field, value, problem",
    [
        ("objectId", "7" * 65, "objectId is not a HubSpot id"),
        ("subscriptionType", "deal.property\x00Change", "subscriptionType is not an event type"),
        ("eventId", "9" * 190, "eventId is not a HubSpot id"),
        ("occurredAt", int("9" * 150), "occurredAt is not epoch milliseconds"),
    ],
)
def test_an_out_of_bounds_field_is_kept_malformed_and_the_good_event_beside_it_stored(
    store, field, value, problem
):
    """PostgreSQL refuses what SQLite swallows: the batch must not fail as a whole."""
    bad = {**event(2), field: value}
    received = store_hubspot_batch(store, json.dumps([event(1), bad]).encode())
    assert (received.new, received.malformed) == (2, 1)
    with store.session() as session:
        rows = {row.status: row.note for row in session.scalars(select(InboxEvent))}
    assert rows["malformed"].startswith(problem)
    assert rows["pending"] is None

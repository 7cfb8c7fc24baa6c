"""The durable inbox: every webhook event is stored, deduplicated, before the sender hears 2xx."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sync.intake.keeping import insert_once, parse_json
from sync.store.db import Store
from sync.store.models import InboxEvent, utcnow

REQUIRED_HUBSPOT_FIELDS = ("eventId", "objectId", "occurredAt")
# Bounds that keep every stored field inside its column on every database.
EVENT_TYPE = re.compile(r"[a-z_]{1,40}\.[A-Za-z_]{1,50}")
MAX_ID_DIGITS = 20  # 64-bit ids; also keeps the dedupe key well under its 200 characters
MAX_EPOCH_MS = 253402300799999  # 9999-12-31T23:59:59.999Z, the last moment Python can hold


class MalformedBatch(ValueError):
    """The body is not a JSON array of events; it was kept in the inbox for a person to see."""


@dataclass(frozen=True)
class Received:
    """What one delivery added to the inbox."""

    new: int
    duplicates: int
    malformed: int


def store_hubspot_batch(store: Store, body: bytes) -> Received:
    """Keep every event of one HubSpot delivery; redelivered events only bump a counter."""
    try:
        events = parse_json(body, MalformedBatch)
    except MalformedBatch as exc:
        _keep_malformed(store, body.decode("utf-8", "replace"), str(exc))
        raise
    if not isinstance(events, list):
        _keep_malformed(store, body.decode("utf-8", "replace"), "body is not a JSON array")
        raise MalformedBatch("body must be a JSON array of events")
    rows = [_hubspot_row(event) for event in events]
    with store.session() as session:
        new = _keep(session, rows)
    malformed = len({row["dedupe_key"] for row in rows if row["status"] == "malformed"})
    return Received(new=new, duplicates=len(events) - new, malformed=malformed)


@dataclass(frozen=True)
class Pending:
    """An event not yet routed: its inbox row id, who sent it, and the body as received."""

    id: int
    source: str
    body: dict[str, Any]


def pending(session: Session, limit: int = 500) -> list[Pending]:
    """Events not yet looked at, oldest first (senders keep no order)."""
    query = (
        select(InboxEvent.id, InboxEvent.source, InboxEvent.payload)
        .where(InboxEvent.status == "pending")
        .order_by(InboxEvent.occurred_at, InboxEvent.id)
        .limit(limit)
    )
    return [Pending(row.id, row.source, json.loads(row.payload)) for row in session.execute(query)]


def store_notion_event(store: Store, body: bytes) -> Received:
    """Keep a Notion integration webhook event (a signal: the poll reads what changed)."""
    event = parse_json(body, MalformedBatch)
    if not isinstance(event, dict) or "id" not in event or "type" not in event:
        raise MalformedBatch("a Notion event has an id and a type")
    if not all(_is_word(event[name]) for name in ("id", "type")):
        raise MalformedBatch("a Notion event's id and type are short plain strings")
    row = {
        "source": "notion",
        "payload": json.dumps(event, sort_keys=True),
        "received_at": utcnow(),
        "deliveries": 1,
        "dedupe_key": f"notion:{event['id']}",
        "kind": str(event["type"]),
        "object_id": str((event.get("entity") or {}).get("id", ""))[:64] or None,
        "occurred_at": _iso(event.get("timestamp")),
        "status": "pending",
        "note": None,
    }
    with store.session() as session:
        new = _keep(session, [row])
    return Received(new=new, duplicates=1 - new, malformed=0)


def keep_notion_verification(store: Store, token: str) -> None:
    """Notion's one-time handshake: its token kept (not acted on) so an admin can read it."""
    payload = json.dumps({"verification_token": token})
    row = {
        "source": "notion",
        "payload": payload,
        "received_at": utcnow(),
        "deliveries": 1,
        "dedupe_key": f"notion-verification:{hashlib.sha256(token.encode()).hexdigest()[:32]}",
        "kind": "verification",
        "object_id": None,
        "occurred_at": utcnow(),
        "status": "verification",
        "note": "paste the token into the integration's Webhooks tab and NOTION_WEBHOOK_TOKEN",
    }
    with store.session() as session:
        _keep(session, [row])


def latest_notion_verification(store: Store) -> str | None:
    """The newest verification token Notion sent, for `flask onboarding notion-token`."""
    with store.session() as session:
        payload = session.scalar(
            select(InboxEvent.payload)
            .where(InboxEvent.source == "notion", InboxEvent.kind == "verification")
            .order_by(InboxEvent.id.desc())
            .limit(1)
        )
    try:
        token = json.loads(payload).get("verification_token") if payload else None
    except (ValueError, AttributeError, RecursionError):
        return None  # kept by an older version that did not check the handshake's shape
    return token if isinstance(token, str) else None


def _iso(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def mark(session: Session, outcomes: dict[int, tuple[str, str | None]]) -> None:
    """Record what was done with each event: one UPDATE per distinct (status, note)."""
    groups: dict[tuple[str, str | None], list[int]] = {}
    for event_id, outcome in outcomes.items():
        groups.setdefault(outcome, []).append(event_id)
    now = utcnow()
    for (status, note), ids in groups.items():
        session.execute(
            update(InboxEvent)
            .where(InboxEvent.id.in_(ids))
            .values(status=status, note=note, processed_at=now)
        )


def _hubspot_row(event: Any) -> dict[str, Any]:
    payload = json.dumps(event, sort_keys=True)
    base = {"source": "hubspot", "payload": payload, "received_at": utcnow(), "deliveries": 1}
    if not isinstance(event, dict):
        return {**base, **_malformed_fields(payload, "event is not a JSON object")}
    problem = _hubspot_problem(event)
    if problem:
        return {**base, **_malformed_fields(payload, problem)}
    kind = event.get("subscriptionType") or event.get("eventType")
    occurred = datetime.fromtimestamp(int(event["occurredAt"]) / 1000, tz=UTC)
    # eventId alone is not unique (HubSpot's docs): the reference's composite key is.
    key = ":".join(
        str(event.get(name)) for name in ("subscriptionId", "eventId", "objectId", "occurredAt")
    )
    return {
        **base,
        "dedupe_key": f"hubspot:{key}",
        "kind": str(kind),
        "object_id": str(event["objectId"]),
        "occurred_at": occurred,
        "status": "pending",
        "note": None,
    }


def _hubspot_problem(event: dict[str, Any]) -> str | None:
    """Why an event cannot be kept as one to route, checked field by field, so a bad value is
    refused here rather than by a database column (PostgreSQL refuses what SQLite swallows)."""
    missing = [name for name in REQUIRED_HUBSPOT_FIELDS if name not in event]
    kind = event.get("subscriptionType") or event.get("eventType")
    if missing or not kind:
        return f"missing {', '.join(missing) or 'subscriptionType'}"
    if not isinstance(kind, str) or not EVENT_TYPE.fullmatch(kind):
        return "subscriptionType is not an event type such as deal.propertyChange"
    for name in ("objectId", "eventId", "subscriptionId", "portalId"):
        if name in event and not _is_id(event[name]):
            return f"{name} is not a HubSpot id (a whole number of at most {MAX_ID_DIGITS} digits)"
    if not _is_id(event["occurredAt"]) or int(event["occurredAt"]) > MAX_EPOCH_MS:
        return "occurredAt is not epoch milliseconds"
    return None


def _is_word(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 100 and value.isprintable()


def _is_id(value: Any) -> bool:
    """HubSpot ids and times are whole numbers, sent as JSON numbers (or digit strings)."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    return (
        isinstance(text, str) and text.isascii() and text.isdigit() and len(text) <= MAX_ID_DIGITS
    )


def _malformed_fields(payload: str, problem: str) -> dict[str, Any]:
    digest = hashlib.sha256(payload.encode()).hexdigest()[:32]
    return {
        "dedupe_key": f"malformed:{digest}",
        "kind": None,
        "object_id": None,
        "occurred_at": None,
        "status": "malformed",
        "note": problem,
    }


def _keep_malformed(store: Store, payload: str, problem: str) -> None:
    row = {"source": "hubspot", "payload": payload, "received_at": utcnow(), "deliveries": 1}
    with store.session() as session:
        _keep(session, [{**row, **_malformed_fields(payload, problem)}])


def _keep(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert new events; a redelivered one only adds to its row's deliveries."""
    return insert_once(session, InboxEvent, rows, count="deliveries")

"""Signals in: product activity (our API) and Customer.io email events, stored before answering.

Like the webhook inbox, every event is kept, deduplicated, before the sender hears 2xx; the
signal pass (sync/signals/watch.py) reads them later. Plain Python, so the HTTP edge stays thin.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sync.intake.keeping import insert_once, parse_json
from sync.store.db import Store
from sync.store.models import SignalEvent, utcnow

MAX_EVENTS = 1000
ACTIVITY_KINDS = ("login", "usage")
CUSTOMER_REFS = ("company_id", "deal_id", "domain")
# A clock ahead of ours by more than this is a sender's bug, not a login from the future.
FUTURE_SLACK = timedelta(minutes=5)


class BadEvents(ValueError):
    """The body is not a list of events at all (nothing was kept)."""


@dataclass
class Stored:
    """What one request added: new rows, repeats of known ones, and each refused event's why."""

    new: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)


def store_activity(store: Store, body: bytes, now: datetime | None = None) -> Stored:
    """Keep every valid login/usage event of one request; list the invalid ones by index."""
    events = _event_list(body)
    now = now or utcnow()
    rows, result = [], Stored()
    for index, event in enumerate(events):
        row, problem = _activity_row(event, now)
        if problem:
            result.rejected.append({"index": index, "error": problem})
        else:
            rows.append(row)
    result.new = _insert_new(store, rows)
    result.duplicates = len(rows) - result.new
    return result


def store_customerio_event(store: Store, body: bytes) -> Stored:
    """Keep one Customer.io reporting event (its event_id makes a redelivery a duplicate)."""
    event = parse_json(body, BadEvents)
    if not isinstance(event, dict) or not event.get("event_id") or not event.get("metric"):
        raise BadEvents("a Customer.io event has an event_id and a metric")
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    identifiers = data.get("identifiers") if isinstance(data.get("identifiers"), dict) else {}
    try:
        occurred = datetime.fromtimestamp(int(event.get("timestamp")), UTC)
    except (TypeError, ValueError, OverflowError) as exc:
        raise BadEvents("timestamp must be unix seconds") from exc
    person = data.get("customer_id") or identifiers.get("id")
    email = data.get("email_address") or data.get("recipient") or identifiers.get("email")
    if not all(_printable(v) for v in (event["event_id"], event["metric"], person, email)):
        raise BadEvents("event_id, metric and the person hold no control characters (such as NUL)")
    row = {
        "source": "customerio",
        "dedupe_key": f"customerio:{event['event_id']}"[:200],
        "kind": str(event["metric"])[:32],
        "deal_id": None,
        "company_id": None,
        "domain": None,
        "person": str(person or email or "")[:255] or None,
        "occurred_at": occurred,
        "received_at": utcnow(),
        "payload": json.dumps(event, sort_keys=True),
    }
    new = _insert_new(store, [row])
    return Stored(new=new, duplicates=1 - new)


def _event_list(body: bytes) -> list[Any]:
    """The request's events: a JSON list, or an object with an `events` list."""
    parsed = parse_json(body, BadEvents)
    events = parsed.get("events") if isinstance(parsed, dict) else parsed
    if not isinstance(events, list):
        raise BadEvents('body must be a JSON list of events (or {"events": [...]})')
    if len(events) > MAX_EVENTS:
        raise BadEvents(f"{len(events)} events in one request; send at most {MAX_EVENTS}")
    return events


def _activity_row(event: Any, now: datetime) -> tuple[dict[str, Any], str | None]:
    """The row for one API event, or why it cannot be kept."""
    if not isinstance(event, dict):
        return {}, "an event is a JSON object"
    refs = {k: str(event[k]).strip() for k in CUSTOMER_REFS if event.get(k) not in (None, "")}
    if not refs:
        return {}, f"give the customer as one of {', '.join(CUSTOMER_REFS)}"
    unprintable = [k for k in (*refs, "user") if not _printable(event.get(k))]
    if unprintable:
        return {}, f"{unprintable[0]} holds a control character (such as NUL)"
    kind = event.get("kind")
    if kind not in ACTIVITY_KINDS:
        return {}, f"kind {kind!r} is not one of {', '.join(ACTIVITY_KINDS)}"
    at = _aware(event.get("at"))
    if at is None:
        return {}, "at must be an ISO 8601 time with a timezone, e.g. 2026-11-27T09:30:00Z"
    if at > now + FUTURE_SLACK:
        return {}, f"at {event['at']} is in the future"
    user = event.get("user")
    canonical = json.dumps([refs, kind, user, at.isoformat()], sort_keys=True, default=str)
    return {
        "source": "api",
        "dedupe_key": f"api:{hashlib.sha256(canonical.encode()).hexdigest()[:48]}",
        "kind": kind,
        "deal_id": refs.get("deal_id", "")[:64] or None,
        "company_id": refs.get("company_id", "")[:64] or None,
        "domain": refs.get("domain", "").lower()[:255] or None,
        "person": str(user)[:255] if user not in (None, "") else None,
        "occurred_at": at,
        "received_at": utcnow(),
        "payload": json.dumps(event, sort_keys=True, default=str),
    }, None


def _aware(value: Any) -> datetime | None:
    """An ISO time with its zone (a naive time would be guessed, so it is refused)."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return moment.astimezone(UTC) if moment.tzinfo is not None else None
    except (ValueError, OverflowError):  # 0001-01-01T00:00+14:00 is before year 1 in UTC
        return None


def _printable(value: Any) -> bool:
    """No control characters: PostgreSQL refuses NUL in text, and none belongs in an id."""
    return value is None or str(value).isprintable()


def _insert_new(store: Store, rows: list[dict[str, Any]]) -> int:
    """Insert the rows whose dedupe key is unknown; returns how many were new."""
    with store.session() as session:
        return insert_once(session, SignalEvent, rows)

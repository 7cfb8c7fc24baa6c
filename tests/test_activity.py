"""The activity API's store, on SQLite and (with TEST_POSTGRES_URL) PostgreSQL: every valid
event of a batch is kept, whatever its neighbours hold."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from sync.intake.activity import BadEvents, store_activity, store_customerio_event
from sync.store.models import SignalEvent

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
GOOD = {"company_id": "42", "kind": "login", "user": "ana", "at": "2026-12-02T09:00:00Z"}


def kept(store) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(SignalEvent))


@pytest.mark.parametrize(
    "bad, problem",
    [
        ({**GOOD, "at": "0001-01-01T00:00:00+14:00"}, "at must be an ISO 8601 time"),
        ({**GOOD, "user": "an\x00a"}, "user holds a control character"),
        ({**GOOD, "company_id": "4\x002"}, "company_id holds a control character"),
    ],
)
def test_a_bad_event_is_refused_by_index_and_the_valid_ones_kept(store, bad, problem):
    stored = store_activity(store, json.dumps([GOOD, bad]).encode(), now=NOW)
    assert (stored.new, stored.duplicates) == (1, 0)
    assert stored.rejected == [{"index": 1, "error": stored.rejected[0]["error"]}]
    assert stored.rejected[0]["error"].startswith(problem)
    assert kept(store) == 1


def test_a_customerio_event_with_a_nul_is_refused_whole(store):
    event = {"event_id": "01J", "metric": "open\x00ed", "timestamp": int(NOW.timestamp()),
             "data": {"customer_id": "7"}}  # fmt: skip
    with pytest.raises(BadEvents, match="control characters"):
        store_customerio_event(store, json.dumps(event).encode())
    assert kept(store) == 0


def test_an_event_from_the_future_is_refused(store):
    later = {**GOOD, "at": (NOW + timedelta(hours=1)).isoformat()}
    assert store_activity(store, json.dumps([later]).encode(), now=NOW).rejected[0]["index"] == 0

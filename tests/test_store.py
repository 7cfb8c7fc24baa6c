"""The store on SQLite and, when TEST_POSTGRES_URL is set (CI starts a server), on PostgreSQL."""

from __future__ import annotations

import json
import os
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from sync.intake.inbox import store_hubspot_batch
from sync.jobs.payloads import KickoffJob
from sync.jobs.queue import JobQueue
from sync.store.db import Store
from sync.store.ledger import Ledger
from sync.store.models import InboxEvent, Onboarding

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_POSTGRES_URL") else [])


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    if request.param == "sqlite":
        store = Store(f"sqlite:///{tmp_path / 'store.db'}")
        store.upgrade()
        yield store
        store.dispose()
        return
    admin_url = os.environ["TEST_POSTGRES_URL"]
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    store = Store(make_url(admin_url).set(database=name).render_as_string(hide_password=False))
    store.upgrade()
    yield store
    store.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}"'))
    admin.dispose()


def event(event_id: int, object_id: int = 7, **extra) -> dict:
    return {"eventId": event_id, "subscriptionId": 1, "portalId": 2, "appId": 3,
            "occurredAt": 1795780800000 + event_id, "subscriptionType": "deal.propertyChange",
            "attemptNumber": 0, "objectId": object_id, "propertyName": "dealstage",
            "propertyValue": "closedwon", **extra}  # fmt: skip


def test_migrations_run_twice_without_harm(store):
    store.upgrade()
    with store.session() as session:
        assert session.scalar(select(InboxEvent).limit(1)) is None


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


def test_a_job_is_enqueued_once_per_key(store):
    queue = JobQueue(store)
    with store.session() as session:
        assert queue.enqueue(session, KickoffJob("42"))
        assert not queue.enqueue(session, KickoffJob("42"))


def test_two_workers_racing_for_one_job_only_one_wins(store):
    queue = JobQueue(store)
    with store.session() as session:
        queue.enqueue(session, KickoffJob("42"))
    won = []
    barrier = threading.Barrier(4)

    def race(name):
        barrier.wait()
        if queue.claim(name) is not None:
            won.append(name)

    threads = [threading.Thread(target=race, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1


def test_a_job_whose_worker_died_is_claimed_again_after_its_lease(store):
    clock = [datetime(2026, 11, 27, tzinfo=UTC)]
    queue = JobQueue(store, lease=timedelta(seconds=30), now=lambda: clock[0])
    with store.session() as session:
        queue.enqueue(session, KickoffJob("42"))
    assert queue.claim("dead") is not None
    assert queue.claim("alive") is None
    clock[0] += timedelta(seconds=31)
    job = queue.claim("alive")
    assert job is not None and job.attempts == 2


def test_ledger_runs_a_done_step_once_and_flags_recovery_of_a_started_one(store):
    with store.session() as session:
        onboarding = Onboarding(deal_id="42", won_at=datetime.now(UTC), context={})
        session.add(onboarding)
    ledger = Ledger(store, onboarding.id)
    seen = []
    assert ledger.run("notion.project", "notion", lambda r: seen.append(r) or "page-1") == "page-1"
    assert ledger.run("notion.project", "notion", lambda r: seen.append(r) or "page-2") == "page-1"
    assert seen == [False]

    def crash(recovering):
        raise KeyboardInterrupt  # stands for the process dying mid-call

    with pytest.raises(KeyboardInterrupt):
        ledger.run("slack.channel", "slack", crash)
    assert ledger.run("slack.channel", "slack", lambda r: seen.append(r) or "C1") == "C1"
    assert seen == [False, True]

"""The worker: each job settles by what its handler raised; a poison event stops nothing."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from connectors.errors import Permanent, Transient
from sync.intake.routing import route_inbox
from sync.jobs import worker as worker_module
from sync.jobs.payloads import MilestoneJob
from sync.jobs.worker import MAX_ATTEMPTS_ON_BUGS, run_job
from sync.store.models import InboxEvent, Job, utcnow


def queued(world, job=None):
    services = world.services
    job = job or MilestoneJob("42", milestone="go_live", on="2026-12-01")
    with services.store.session() as session:
        services.queue.enqueue(session, job)
    return services.queue.claim("test")


@pytest.fixture
def handlers(monkeypatch):
    table = dict(worker_module.HANDLERS)
    monkeypatch.setattr(worker_module, "HANDLERS", table)
    return table


def test_a_transient_failure_is_retried_later_with_its_reason(world, handlers):
    def unavailable(services, job, heartbeat):
        raise Transient("notion", "503 Service Unavailable")

    handlers[MilestoneJob.kind] = unavailable
    job = queued(world)
    assert run_job(world.services, world.services.queue, job) == "retrying"
    row = world.services.queue.get(job.kind, job.key)
    assert row.status == "retrying"
    assert row.last_error == "notion: 503 Service Unavailable"
    assert row.run_after > utcnow() + timedelta(seconds=1)


def test_a_permanent_failure_stops_for_a_person(world, handlers):
    def refused(services, job, heartbeat):
        raise Permanent("slack", "not_in_channel")

    handlers[MilestoneJob.kind] = refused
    job = queued(world)
    assert run_job(world.services, world.services.queue, job) == "failed"
    assert world.services.queue.get(job.kind, job.key).last_error == "slack: not_in_channel"


def test_a_bug_is_retried_then_stopped_and_shown(world, handlers):
    def broken(services, job, heartbeat):
        raise KeyError("csm")

    handlers[MilestoneJob.kind] = broken
    job = queued(world)
    job.attempts = MAX_ATTEMPTS_ON_BUGS - 1
    assert run_job(world.services, world.services.queue, job) == "retrying"
    job.attempts = MAX_ATTEMPTS_ON_BUGS
    assert run_job(world.services, world.services.queue, job) == "failed"
    assert "internal error: KeyError" in world.services.queue.get(job.kind, job.key).last_error


def test_the_handler_gets_the_typed_payload(world, handlers):
    seen = []
    handlers[MilestoneJob.kind] = lambda services, job, heartbeat: seen.append(job)
    job = queued(world)
    assert run_job(world.services, world.services.queue, job) == "done"
    assert seen == [MilestoneJob("42", milestone="go_live", on="2026-12-01")]


def test_an_unknown_job_kind_fails_with_a_clear_reason(world):
    services = world.services
    with services.store.session() as session:
        session.add(Job(kind="mystery", key="1", payload={}, status="queued", run_after=utcnow()))
    job = services.queue.claim("test")
    assert run_job(services, services.queue, job) == "failed"
    assert services.queue.get("mystery", "1").last_error == "worker: unknown job kind 'mystery'"


def test_a_poison_event_is_marked_malformed_and_the_rest_are_routed(world):
    services = world.services
    poison = {"subscriptionType": "deal.propertyChange", "objectId": 7, "occurredAt": "soon",
              "propertyName": "dealstage", "propertyValue": "closedwon"}  # fmt: skip
    with services.store.session() as session:  # as an older version may have kept it
        session.add(InboxEvent(source="hubspot", dedupe_key="old:1", kind="deal.propertyChange",
                               object_id="7", occurred_at=utcnow() - timedelta(minutes=1),
                               payload=json.dumps(poison), status="pending"))  # fmt: skip
    assert world.deliver([world.won("8")]).status_code == 200
    assert route_inbox(services) == 2
    with services.store.session() as session:
        rows = {r.object_id: (r.status, r.note) for r in session.scalars(select(InboxEvent))}
    status, note = rows["7"]
    assert status == "malformed" and note.startswith("routing failed: ValueError")
    assert rows["8"] == ("processed", "kickoff queued")
    assert services.queue.get("kickoff", "8").status == "queued"


def test_a_transient_failure_is_not_retried_before_the_services_retry_after(world, handlers):
    def migrating(services, job, heartbeat):
        raise Transient("hubspot", "477 Migration in progress", retry_after=3600)

    handlers[MilestoneJob.kind] = migrating
    job = queued(world)
    assert run_job(world.services, world.services.queue, job) == "retrying"
    row = world.services.queue.get(job.kind, job.key)
    assert row.run_after >= utcnow() + timedelta(seconds=3590)


def test_a_job_running_longer_than_its_lease_keeps_it_and_settles_once(world, handlers):
    services = world.services
    services.queue.lease = timedelta(seconds=0.3)
    stolen = []

    def slow(services, job, heartbeat):
        time.sleep(1.2)  # four leases long
        stolen.append(services.queue.claim("another worker"))

    handlers[MilestoneJob.kind] = slow
    job = queued(world)
    assert run_job(services, services.queue, job) == "done"
    assert stolen == [None]  # the heartbeat kept it: nobody could take it over meanwhile
    time.sleep(0.4)  # a beat that came late must not revive it
    assert services.queue.get(job.kind, job.key).status == "done"


def test_a_job_whose_worker_died_is_taken_over_after_one_lease(world):
    services = world.services
    services.queue.lease = timedelta(seconds=0.3)
    dead = queued(world)  # claimed, then its process vanished: no heartbeat
    assert services.queue.claim("survivor") is None
    time.sleep(0.35)
    taken = services.queue.claim("survivor")
    assert taken is not None and taken.id == dead.id
    assert not services.queue.extend(dead)  # the dead worker's late beat changes nothing

"""The job queue, on SQLite and (with TEST_POSTGRES_URL) PostgreSQL: one job per key."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sync.jobs.payloads import KickoffJob
from sync.jobs.queue import JobQueue


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

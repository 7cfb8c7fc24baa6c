"""The in-process worker: turns inbox events into jobs and runs due jobs on a thread pool.

APScheduler only says *when* to look (every few seconds, or at once when a webhook arrives);
what runs is decided by the job table, so a pool of worker processes can replace this later.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from connectors.errors import Permanent, Transient
from sync.intake.catchup import catch_up_tick
from sync.intake.routing import route_inbox
from sync.jobs.payloads import PAYLOADS, EndJob, HoldJob, KickoffJob, MergeJob, MilestoneJob
from sync.jobs.queue import JobQueue
from sync.kickoff.run import run_kickoff
from sync.lifecycle.endings import run_end
from sync.lifecycle.hold import run_hold
from sync.lifecycle.merges import run_merge
from sync.progress.drift import drift_tick
from sync.progress.milestones import announce_milestone
from sync.progress.tracking import progress_tick
from sync.reminders.send import reminder_tick
from sync.services import Services
from sync.signals.watch import signals_tick
from sync.store.models import Job

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300.0
MAX_ATTEMPTS_ON_BUGS = 10


# A job handler does one job's work from its typed payload; it returns a note worth logging (or
# None) and raises Transient to be retried later, Permanent to stop for a person.
JobHandler = Callable[[Services, Any, Callable[[], None]], str | None]

HANDLERS: dict[str, JobHandler] = {
    KickoffJob.kind: lambda services, job, heartbeat: run_kickoff(services, job, heartbeat).skipped,
    EndJob.kind: run_end,
    HoldJob.kind: run_hold,
    MilestoneJob.kind: announce_milestone,
    MergeJob.kind: run_merge,
}


def run_job(services: Services, queue: JobQueue, job: Job) -> str:
    """Run one claimed job and settle it; returns its new status."""
    try:
        handler, payload = HANDLERS.get(job.kind), PAYLOADS.get(job.kind)
        if handler is None or payload is None:
            raise Permanent("worker", f"unknown job kind {job.kind!r}")
        with _lease_kept(queue, job):
            note = handler(services, payload.from_json(job.payload), lambda: queue.extend(job))
    except Transient as exc:  # not before the service's own Retry-After, when it gave one
        queue.retry_later(job, str(exc), max(_backoff(job.attempts), exc.retry_after or 0))
        return "retrying"
    except Permanent as exc:
        queue.fail(job, str(exc))
        return "failed"
    except Exception as exc:  # a bug: keep the job, retry a few times, then stop and show it
        log.exception("job %s %s crashed", job.kind, job.key)
        if job.attempts >= MAX_ATTEMPTS_ON_BUGS:
            queue.fail(job, f"internal error: {type(exc).__name__}: {exc}")
            return "failed"
        queue.retry_later(
            job, f"internal error: {type(exc).__name__}: {exc}", _backoff(job.attempts)
        )
        return "retrying"
    queue.complete(job)
    if note:
        log.info("%s %s: %s", job.kind, job.key, note)
    return "done"


@contextmanager
def _lease_kept(queue: JobQueue, job: Job) -> Iterator[None]:
    """Renew the job's lease every third of it while its handler runs: a short lease then
    means a job whose worker died is taken over within it, and a live one never loses it."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(queue.lease.total_seconds() / 3):
            try:
                if not queue.extend(job):
                    return  # settled or taken over: nothing left to hold
            except Exception:  # the database hiccupped: the next beat tries again
                log.warning("job %s %s: lease not renewed", job.kind, job.key, exc_info=True)

    heart = threading.Thread(target=beat, name=f"lease-{job.id}", daemon=True)
    heart.start()
    try:
        yield
    finally:
        done.set()
        heart.join()


def _backoff(attempts: int) -> float:
    return min(MAX_BACKOFF_SECONDS, 2.0 * 2 ** max(attempts - 1, 0))


class Worker:
    """Runs due jobs, several at a time, in this process."""

    def __init__(self, services: Services, threads: int | None = None) -> None:
        self.services = services
        settings = services.settings
        self.queue = services.queue
        self.threads = threads or settings.max_concurrent_jobs
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._scheduler: BackgroundScheduler | None = None
        self._tick_lock = threading.Lock()

    def tick(self) -> int:
        """Route the inbox and run every due job; returns how many jobs ran."""
        if not self._tick_lock.acquire(blocking=False):
            return 0  # a tick is already running and will pick up the new work
        try:
            return self._drain()
        finally:
            self._tick_lock.release()

    def _drain(self) -> int:
        ran = 0
        slots = threading.Semaphore(self.threads)
        routed_at = 0.0
        with ThreadPoolExecutor(self.threads, thread_name_prefix="job") as pool:
            while True:
                if time.monotonic() - routed_at > 0.5:
                    route_inbox(self.services)
                    routed_at = time.monotonic()
                slots.acquire()
                job = self.queue.claim(self.name)
                if job is None:
                    slots.release()
                    break
                ran += 1
                future = pool.submit(run_job, self.services, self.queue, job)
                future.add_done_callback(lambda _f: slots.release())
        return ran

    def start(self, interval: float | None = None) -> None:
        """Look for due jobs every few seconds, and run the periodic syncs on their own clocks."""
        settings = self.services.settings
        self._scheduler = BackgroundScheduler(timezone="UTC")
        now = datetime.now().astimezone()
        self._scheduler.add_job(
            self.tick, "interval", seconds=interval or settings.worker_interval_seconds,
            id="tick", max_instances=2, coalesce=True, next_run_time=now,
        )  # fmt: skip
        for name, seconds, func in self._periodic():
            self._scheduler.add_job(
                _logged(name, func), "interval", seconds=seconds, args=[self.services], id=name,
                max_instances=1, coalesce=True, next_run_time=now,
            )  # fmt: skip
        self._scheduler.start()

    def _periodic(self) -> list[tuple[str, float, Callable[[Services], Any]]]:
        settings = self.services.settings
        return [
            ("progress", settings.poll_interval_seconds, progress_tick),
            ("catch-up", settings.catchup_interval_minutes * 60, catch_up_tick),
            ("drift", settings.drift_interval_minutes * 60, drift_tick),
            ("reminders", settings.reminder_interval_minutes * 60, reminder_tick),
            ("signals", settings.signals_interval_minutes * 60, signals_tick),
        ]

    def wake(self, job: str = "tick") -> None:
        """Run ``job`` now rather than at its next interval (a webhook just arrived)."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.modify_job(job, next_run_time=datetime.now().astimezone())

    def stop(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=True)


def _logged(name: str, func: Callable[[Services], Any]) -> Callable[[Services], None]:
    """A periodic sync that fails (a service down) says so and waits for its next turn."""

    def run(services: Services) -> None:
        try:
            func(services)
        except (Transient, Permanent) as exc:
            log.warning("%s sync: %s", name, exc)

    return run


def run_until_idle(worker: Worker, done: Callable[[], bool], timeout: float = 60.0) -> None:
    """Tick until ``done()`` (tests and the demo use it instead of sleeping blindly)."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("work did not finish in time")
        if worker.tick() == 0:
            time.sleep(0.05)

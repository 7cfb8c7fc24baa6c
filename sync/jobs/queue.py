"""Durable jobs: one per (kind, key), claimed by a conditional UPDATE, retried with back-off.

This is the seam between "a job is due" and "who runs it": anything that can call ``claim``
and then ``complete``/``retry_later``/``fail`` can run jobs (the in-process APScheduler worker
today, a pool of worker processes later).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from sync.jobs.payloads import JobPayload
from sync.store.db import Store
from sync.store.models import Job, utcnow

RUNNABLE = ("queued", "retrying")


class JobQueue:
    """Enqueue, claim and settle jobs in the database."""

    def __init__(
        self,
        store: Store,
        lease: timedelta = timedelta(seconds=20),
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.lease = lease
        self.now = now

    def enqueue(self, session: Session, job: JobPayload) -> bool:
        """Add the job unless one with its kind and key exists; True when it was added."""
        insert = (
            postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        )
        now = self.now()
        statement = (
            insert(Job)
            .values(
                kind=job.kind,
                key=job.key,
                payload=job.to_json(),
                status="queued",
                run_after=now,
                attempts=0,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=[Job.kind, Job.key])
            .returning(Job.id)  # rowcount is not reliable across drivers for ON CONFLICT
        )
        return session.execute(statement).scalar() is not None

    def claim(self, worker: str) -> Job | None:
        """Take the oldest due job (or one whose worker died holding it); None when idle."""
        now = self.now()
        due = or_(
            (Job.status.in_(RUNNABLE)) & (Job.run_after <= now),
            (Job.status == "running") & (Job.claimed_until < now),
        )
        with self.store.session() as session:
            candidates = session.scalars(
                select(Job.id).where(due).order_by(Job.run_after, Job.id).limit(10)
            ).all()
            for job_id in candidates:
                claimed = session.execute(
                    update(Job)
                    .where(Job.id == job_id, due)
                    .values(
                        status="running",
                        claimed_by=worker,
                        claimed_until=now + self.lease,
                        attempts=Job.attempts + 1,
                        updated_at=now,
                    )
                )
                if claimed.rowcount == 1:  # nobody else won the race for this row
                    session.commit()
                    return session.get(Job, job_id)
        return None

    def extend(self, job: Job) -> bool:
        """Keep holding a running job; False when it is no longer ours (settled, or taken over
        after its lease ran out), so a late heartbeat never revives a finished job."""
        with self.store.session() as session:
            renewed = session.execute(
                update(Job)
                .where(Job.id == job.id, Job.status == "running", Job.claimed_by == job.claimed_by)
                .values(claimed_until=self.now() + self.lease, updated_at=self.now())
            )
            return renewed.rowcount == 1

    def complete(self, job: Job) -> None:
        self._settle(job, status="done", claimed_by=None, claimed_until=None, last_error=None)

    def retry_later(self, job: Job, error: str, delay: float) -> None:
        self._settle(
            job,
            status="retrying",
            run_after=self.now() + timedelta(seconds=delay),
            claimed_by=None,
            claimed_until=None,
            last_error=error,
        )

    def fail(self, job: Job, error: str) -> None:
        """Stop retrying: a person must fix something, then ``requeue``."""
        self._settle(job, status="failed", claimed_by=None, claimed_until=None, last_error=error)

    def requeue(self, kind: str, key: str) -> bool:
        """Run a job again now (after a fix); False when there is no such job."""
        with self.store.session() as session:
            result = session.execute(
                update(Job)
                .where(Job.kind == kind, Job.key == key, Job.status != "running")
                .values(status="queued", run_after=self.now(), attempts=0, last_error=None)
            )
            return result.rowcount == 1

    def get(self, kind: str, key: str) -> Job | None:
        with self.store.session() as session:
            return session.scalar(select(Job).where(Job.kind == kind, Job.key == key))

    def _settle(self, job: Job, **values: Any) -> None:
        with self.store.session() as session:
            session.execute(
                update(Job).where(Job.id == job.id).values(updated_at=self.now(), **values)
            )

"""Is work flowing? The age of the oldest unrouted event and of the oldest due job, for /health."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from sync.jobs.queue import RUNNABLE
from sync.store.db import Store
from sync.store.models import InboxEvent, Job


@dataclass(frozen=True)
class Backlog:
    """How long the oldest waiting work has waited (None: nothing waits)."""

    unrouted_for: timedelta | None
    job_due_for: timedelta | None

    def problems(self, limit: timedelta) -> list[str]:
        """What a person should look at: work waiting longer than ``limit``."""
        found = []
        if self.unrouted_for is not None and self.unrouted_for > limit:
            found.append(
                f"the oldest webhook event has waited {_words(self.unrouted_for)} to be routed"
            )
        if self.job_due_for is not None and self.job_due_for > limit:
            found.append(f"the oldest due job has waited {_words(self.job_due_for)} to run")
        return found


def backlog(store: Store, now: datetime) -> Backlog:
    with store.session() as session:
        received = session.scalar(
            select(func.min(InboxEvent.received_at)).where(InboxEvent.status == "pending")
        )
        due = session.scalar(
            select(func.min(Job.run_after)).where(Job.status.in_(RUNNABLE), Job.run_after <= now)
        )
    return Backlog(
        unrouted_for=now - received if received else None,
        job_due_for=now - due if due else None,
    )


def _words(age: timedelta) -> str:
    seconds = int(age.total_seconds())
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"

"""A deal merged into another: its onboarding follows the surviving deal, once.

HubSpot deletes the absorbed deal (a deletion event) and sends a merge event naming both; the
deletion must end nothing (sync/lifecycle/endings.py waits a little for the merge to be known).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from connectors.errors import Transient
from sync.jobs.payloads import KickoffJob, MergeJob
from sync.progress.writeback import refresh
from sync.services import Services
from sync.store.models import Job, Onboarding


def run_merge(
    services: Services, job: MergeJob, heartbeat: Callable[[], None] = lambda: None
) -> str:
    """Move the absorbed deal's onboarding to the survivor (or end it, when the survivor has
    one of its own); the survivor's HubSpot fields are then written afresh."""
    with services.store.session() as session:
        absorbed = session.scalar(select(Onboarding).where(Onboarding.deal_id == job.deal_id))
        survivor = session.scalar(
            select(Onboarding.id).where(Onboarding.deal_id == job.survivor_id)
        )
        if absorbed is None:
            if _kickoff_unsettled(services, job.deal_id):
                raise Transient("worker", "the absorbed deal's kickoff has not run yet")
            # Moved by an earlier run, which may have died before writing the fields.
            moved, note = survivor, f"deal {job.deal_id} was already followed"
        elif absorbed.status == "starting":
            raise Transient("worker", "the kickoff is running; the merge waits for it")
        elif survivor is not None:
            if absorbed.ended_at is None:
                absorbed.status, absorbed.ended_at = "cancelled", services.now()
                absorbed.end_reason = f"merged into deal {job.survivor_id}, which has its own"
            return f"deal {job.deal_id} merged into {job.survivor_id}, whose onboarding stays"
        else:
            absorbed.deal_id = job.survivor_id
            absorbed.written = {}  # the survivor has none of our fields yet: write them all
            moved = absorbed.id
            note = f"onboarding followed deal {job.deal_id} into deal {job.survivor_id}"
    if moved is not None:
        refresh(services, [moved])  # only what HubSpot does not show yet is written
    return note


def merged_into(services: Services, deal_id: str) -> str | None:
    """The deal this one was merged into, when a merge of it is known."""
    with services.store.session() as session:
        key = session.scalar(
            select(Job.key).where(Job.kind == MergeJob.kind, Job.key.like(f"{deal_id}:%"))
        )
    return key.partition(":")[2] if key else None


def _kickoff_unsettled(services: Services, deal_id: str) -> bool:
    kickoff = services.queue.get(KickoffJob.kind, deal_id)
    return kickoff is not None and kickoff.status in ("queued", "running", "retrying")

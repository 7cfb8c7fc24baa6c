"""Progress out: recompute onboardings from the mirror, write only what changed to HubSpot.

Deals and companies go out in batch updates of up to 100 records (two calls for up to 100
changed onboardings), and each onboarding remembers what it last wrote, so an unchanged
property is never written twice. Milestones newly reached become durable jobs, one per
milestone, so each is announced once whatever happens to this process.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from sync.jobs.payloads import MilestoneJob
from sync.lifecycle.reasons import ENDED, ON_HOLD
from sync.onboarding.crm import FieldWrite, write_many
from sync.progress.compute import Progress, TaskState, compute
from sync.services import Services
from sync.signals import health
from sync.store.models import Onboarding

# Ended ones keep their last state, kickoffs write their own, on-hold ones keep the admin's.
NOT_TRACKED = (*ENDED, "starting", ON_HOLD)


@dataclass
class Refreshed:
    onboardings: int = 0
    changed: int = 0
    hubspot_calls: int = 0


def refresh(
    services: Services, onboarding_ids: Iterable[int] | None = None, today: date | None = None
) -> Refreshed:
    """Recompute progress (of these onboardings, or all tracked ones) and write the changes."""
    today = today or services.now().astimezone(services.settings.tz).date()
    ids = None if onboarding_ids is None else list(onboarding_ids)
    if ids == []:
        return Refreshed()
    pending: list[FieldWrite] = []
    result = Refreshed()
    with services.store.session() as session:
        query = select(Onboarding).where(Onboarding.status.not_in(NOT_TRACKED))
        if ids is not None:
            query = query.where(Onboarding.id.in_(ids))
        for onboarding in session.scalars(query):
            result.onboardings += 1
            progress = _recompute(services, onboarding, today)
            desired = hubspot_values(progress) | health.hubspot_values(onboarding, progress.status)
            changes = {k: v for k, v in desired.items() if onboarding.written.get(k) != v}
            if changes:
                pending.append(
                    FieldWrite(onboarding.id, onboarding.deal_id, onboarding.company_id, changes)
                )
            for name, day in progress.milestones().items():
                job = MilestoneJob(onboarding.deal_id, milestone=name, on=day.isoformat())
                services.queue.enqueue(session, job)
    result.changed = len(pending)
    result.hubspot_calls = write_many(services, pending)
    return result


def hubspot_values(progress: Progress) -> dict[str, str]:
    """The logical HubSpot fields progress owns (names mapped by fields.yaml), as strings."""
    return {
        "status": progress.status,
        "progress": str(progress.percent),
        "next_task": progress.next_task,
        "next_task_due": progress.next_task_due.isoformat() if progress.next_task_due else "",
        "overdue_count": str(progress.overdue),
    }


def _recompute(services: Services, onboarding: Onboarding, today: date) -> Progress:
    playbook = services.mappings.playbooks.get(onboarding.playbook or "")
    labels = {phase.key: phase.label for phase in playbook.phases} if playbook else {}
    tasks = [
        TaskState(
            title=t.title,
            phase=labels.get(t.phase, t.phase),
            due=t.due_date,
            status=t.status,
            required=t.required,
            flags=t.flags or [],
            done_on=t.done_on,
            position=t.position,
        )
        for t in onboarding.tasks
        if not t.archived
    ]
    progress = compute(
        tasks, today, services.settings.escalate_after_business_days, calendar=services.calendar
    )
    onboarding.progress = progress.as_json()
    onboarding.first_value_on = progress.first_value_on
    onboarding.go_live_on = progress.go_live_on
    onboarding.completed_on = progress.completed_on
    if progress.status == "completed":
        onboarding.status = "completed"
    elif onboarding.status == "completed":
        onboarding.status = "active"  # a required task was reopened or added
    return progress

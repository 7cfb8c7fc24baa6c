"""The deal changes after the win: a lost or deleted deal cancels its onboarding, an early churn
marks it churned.

The end is recorded (status, when, why) for the KPIs and written once to HubSpot; nothing made
in Notion or Slack is deleted, and a won event arriving later does not restart anything (the
kickoff sees the end). Each webhook that may end an onboarding becomes an ``end`` job
(sync/intake/routing.py), which checks HubSpot's current state before acting, since webhooks
arrive late and out of order.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update

from connectors.errors import NotFound, Transient
from sync.jobs.payloads import EndJob, KickoffJob, moment
from sync.lifecycle.merges import merged_into
from sync.lifecycle.reasons import CHURNED, DELETED, STATUS
from sync.onboarding.crm import write_fields
from sync.onboarding.steps import hubspot_status
from sync.services import Services
from sync.store.ledger import Ledger
from sync.store.models import Onboarding

DEAL_DELETED = "the deal was deleted in HubSpot"
# A kickoff in these states may still create or write things; the end waits for it to settle.
UNSETTLED = ("queued", "running")


def run_end(
    services: Services, job: EndJob, heartbeat: Callable[[], None] = lambda: None
) -> str | None:
    """Check the end still holds, record it, write the status to HubSpot once; returns a note."""
    deal_id = job.deal_id
    if job.reason == DELETED:
        survivor = merged_into(services, deal_id)
        if survivor is not None:
            return f"deleted by a merge into deal {survivor}: nothing ends"
        grace = timedelta(seconds=services.settings.merge_grace_seconds)
        if services.now() - _moment(services, job) < grace:
            raise Transient("worker", "a deletion may be half of a merge: waiting for its event")
    kickoff = services.queue.get(KickoffJob.kind, deal_id)
    settling = kickoff is not None and kickoff.status in (*UNSETTLED, "retrying")
    onboarding = _onboarding(services, deal_id)
    if onboarding is None:
        if settling:  # the kickoff may yet start it (or skip it, seeing the deal lost)
            raise Transient("worker", "the kickoff has not run yet; the end waits for it")
        return "no onboarding was started for this deal: nothing to end"
    if onboarding.ended_at is None:
        status, why = _confirm(services, onboarding, job)
        if status is None:
            return why
        onboarding = _mark_ended(services, onboarding.id, status, why, _moment(services, job))
    if kickoff is not None and kickoff.status in UNSETTLED:
        # Marked first, so a kickoff starting from now on skips; one already running finishes
        # before the status goes out, so its own write cannot land after ours.
        raise Transient("worker", "the kickoff is running; the status is written after it")
    _announce(services, onboarding, Ledger(services.store, onboarding.id, on_step=heartbeat))
    return f"onboarding {onboarding.status}: {onboarding.end_reason}"


def _onboarding(services: Services, deal_id: str) -> Onboarding | None:
    with services.store.session() as session:
        return session.scalar(select(Onboarding).where(Onboarding.deal_id == deal_id))


def _moment(services: Services, job: EndJob) -> datetime:
    """When the change happened in HubSpot (the job may run much later)."""
    return moment(job.occurred_at_ms, services.now())


def _confirm(services: Services, onboarding: Onboarding, job: EndJob) -> tuple[str | None, str]:
    """(new status, why) when HubSpot still shows the end; (None, why not) otherwise."""
    reason = job.reason
    if reason == CHURNED:
        return _confirm_churn(services, onboarding, job)
    if onboarding.status == "completed":
        return None, "the onboarding was completed before the deal was lost: left completed"
    try:
        deal = services.hubspot.read_deal(onboarding.deal_id, ["dealstage", "pipeline"])
    except NotFound:
        return STATUS[reason], DEAL_DELETED
    if reason == DELETED:
        return None, "the deal exists again (restored): the onboarding goes on"
    stage, pipeline = deal.properties.get("dealstage") or "", deal.properties.get("pipeline") or ""
    if not services.mappings.triggers.cancels(pipeline, stage):
        return None, f"the deal left the lost stage (now {stage!r}): the onboarding goes on"
    return STATUS[reason], f"the deal moved to lost stage {stage!r}"


def _confirm_churn(
    services: Services, onboarding: Onboarding, job: EndJob
) -> tuple[str | None, str]:
    """A churn counts when the property still says so and it came within the early window."""
    obj, prop = job.object, job.property or ""
    read = services.hubspot.read_company if obj == "company" else services.hubspot.read_deal
    value = read(job.object_id, [prop]).properties.get(prop)
    if not services.mappings.triggers.churns(obj, prop, value):
        return None, f"{obj} {prop} is {value!r} by now: not churned"
    days = (_moment(services, job) - onboarding.won_at).days
    window = services.mappings.triggers.early_churn_days
    if days > window:
        return None, (
            f"churned {days} days after the win, past the {window}-day early-churn window:"
            f" the onboarding stays {onboarding.status}"
        )
    return STATUS[CHURNED], f"{obj} {prop} = {value} {days} days after the win"


def _mark_ended(
    services: Services, onboarding_id: int, status: str, why: str, at: datetime
) -> Onboarding:
    """Record the end once (a concurrent end job for the same deal finds it recorded)."""
    with services.store.session() as session:
        session.execute(
            update(Onboarding)
            .where(Onboarding.id == onboarding_id, Onboarding.ended_at.is_(None))
            .values(status=status, ended_at=at, end_reason=why, updated_at=services.now())
        )
    with services.store.session() as session:
        onboarding = session.get(Onboarding, onboarding_id)
        assert onboarding is not None
        return onboarding


def _announce(services: Services, onboarding: Onboarding, ledger: Ledger) -> None:
    """The ended status to HubSpot's deal and company, once (a deleted deal is skipped)."""
    deleted = onboarding.end_reason == DEAL_DELETED
    ledger.run(
        hubspot_status(onboarding.status),
        "hubspot",
        lambda _recovering: (
            write_fields(services, onboarding, {"status": onboarding.status}, deal=not deleted)
            or onboarding.status
        ),
    )

"""From inbox events to jobs: the one table that says which HubSpot change starts which job.

Won -> a kickoff; lost, deleted, churned -> an end; the onboarding status set to (or from)
on hold -> a hold check; a merge -> the absorbed deals' onboardings follow the survivor.
Every job re-reads HubSpot before acting (webhooks arrive late and out of order), so routing
only decides what is worth checking. Adding a trigger is one row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.intake import inbox
from sync.intake.events import HubSpotEvent
from sync.jobs.payloads import EndJob, HoldJob, KickoffJob, MergeJob
from sync.lifecycle.reasons import CHURNED, DELETED, LOST, ON_HOLD, status_property
from sync.mappings.triggers import Trigger
from sync.services import Services
from sync.store.models import Job, Onboarding

log = logging.getLogger(__name__)

Outcome = tuple[str, str]  # the inbox row's new status and a note for people


@dataclass(frozen=True)
class Rule:
    """When ``matches`` an event, ``route`` queues its job and says what it did."""

    name: str
    matches: Callable[[Services, HubSpotEvent], bool]
    route: Callable[[Services, Session, HubSpotEvent], Outcome]


def _is_won(services: Services, event: HubSpotEvent) -> bool:
    return event.changes("deal", "dealstage") and _in_stages(
        services.mappings.triggers.start, event
    )


def _is_lost(services: Services, event: HubSpotEvent) -> bool:
    return event.changes("deal", "dealstage") and _in_stages(
        services.mappings.triggers.cancel, event
    )


def _is_deletion(services: Services, event: HubSpotEvent) -> bool:
    return event.kind == "deal.deletion"


def _is_churn(services: Services, event: HubSpotEvent) -> bool:
    return event.change == "propertyChange" and services.mappings.triggers.churns(
        event.object_type, event.property_name or "", event.value
    )


def _is_hold_change(services: Services, event: HubSpotEvent) -> bool:
    return event.changes("deal", status_property(services))


def _in_stages(triggers: Sequence[Trigger], event: HubSpotEvent) -> bool:
    """The webhook names no pipeline: a stage listed under any pipeline matches."""
    return any(event.value in trigger.stages for trigger in triggers)


def _queue_kickoff(services: Services, session: Session, event: HubSpotEvent) -> Outcome:
    job = KickoffJob(
        deal_id=event.object_id,
        stage=event.value or "",
        occurred_at_ms=event.occurred_at_ms,
        portal_id=event.portal_id,
    )
    if services.queue.enqueue(session, job):
        return "processed", "kickoff queued"
    return "processed", "kickoff already queued or done for this deal"


def _queue_end(reason: str, services: Services, session: Session, event: HubSpotEvent) -> Outcome:
    """An end job per onboarding the event may end (a company's churn ends each of its deals)."""
    if event.object_type == "company":
        deals = _company_deals(session, event.object_id)
    else:
        deals = _started_deals(session, event.object_id)
    if not deals:
        return "ignored", f"{reason}: no onboarding for {event.object_type} {event.object_id}"
    for deal_id in deals:
        job = EndJob(
            deal_id=deal_id,
            reason=reason,
            occurred_at_ms=event.occurred_at_ms,
            object=event.object_type,
            object_id=event.object_id,
            property=event.property_name,
        )
        services.queue.enqueue(session, job)
    return "processed", f"{reason}: end queued for deal {', '.join(deals)}"


def _is_merge(services: Services, event: HubSpotEvent) -> bool:
    return event.kind == "deal.merge" and event.survivor_id is not None


def _queue_merges(services: Services, session: Session, event: HubSpotEvent) -> Outcome:
    """Each absorbed deal with an onboarding is followed to the surviving one."""
    survivor = event.survivor_id or ""
    absorbed = [d for d in {*event.merged_ids, event.object_id} - {survivor} if d]
    followed = [deal for deal in sorted(absorbed) if _started_deals(session, deal)]
    for deal_id in followed:
        services.queue.enqueue(session, MergeJob(deal_id, survivor_id=survivor))
    if not followed:
        return "ignored", f"merge into deal {survivor}: no onboarding of the merged deals"
    return "processed", f"merge: deal {', '.join(followed)} followed to deal {survivor}"


def _queue_hold(services: Services, session: Session, event: HubSpotEvent) -> Outcome:
    """The app writes this property itself: only a change that would move the hold is queued."""
    deal_id = event.object_id
    status = session.scalar(select(Onboarding.status).where(Onboarding.deal_id == deal_id))
    if status is None:
        return "ignored", f"hold: no onboarding for deal {deal_id}"
    if (event.value == ON_HOLD) == (status == ON_HOLD):
        return "processed", "hold: nothing changes (our own status write, or already so)"
    services.queue.enqueue(session, HoldJob(deal_id, event.occurred_at_ms))
    return "processed", f"hold: check queued for deal {deal_id}"


RULES: tuple[Rule, ...] = (
    Rule("merged", _is_merge, _queue_merges),
    Rule("on hold", _is_hold_change, _queue_hold),
    Rule("deleted", _is_deletion, partial(_queue_end, DELETED)),
    Rule("lost", _is_lost, partial(_queue_end, LOST)),
    Rule("churned", _is_churn, partial(_queue_end, CHURNED)),
    Rule("won", _is_won, _queue_kickoff),
)


def route_event(services: Services, session: Session, event: HubSpotEvent) -> Outcome:
    """The first rule that matches queues its job; an event no rule wants is ignored."""
    for rule in RULES:
        if rule.matches(services, event):
            return rule.route(services, session, event)
    if event.changes("deal", "dealstage"):
        return "ignored", f"stage {event.value!r} starts no onboarding"
    return "ignored", f"{event.kind} events are not acted on"


def route_inbox(services: Services) -> int:
    """Route every pending event, each in its own savepoint: one that fails is marked
    malformed with its reason and the others go on. Returns how many were looked at."""
    with services.store.session() as session:
        outcomes: dict[int, Outcome] = {}
        for pending in inbox.pending(session):
            if pending.source != "hubspot":
                outcomes[pending.id] = ("processed", "a signal: the progress poll reads the change")
                continue
            try:
                with session.begin_nested():
                    event = HubSpotEvent.parse(pending.id, pending.body)
                    outcomes[pending.id] = route_event(services, session, event)
            except Exception as exc:  # a poison event must not stop every other one
                log.exception("inbox event %s could not be routed", pending.id)
                outcomes[pending.id] = ("malformed", f"routing failed: {type(exc).__name__}: {exc}")
        inbox.mark(session, outcomes)
    return len(outcomes)


def _started_deals(session: Session, deal_id: str) -> list[str]:
    """[deal_id] when an onboarding exists or its kickoff is queued, else []."""
    onboarding = session.scalar(select(Onboarding.id).where(Onboarding.deal_id == deal_id))
    kickoff = session.scalar(select(Job.id).where(Job.kind == KickoffJob.kind, Job.key == deal_id))
    return [deal_id] if onboarding is not None or kickoff is not None else []


def _company_deals(session: Session, company_id: str) -> list[str]:
    query = select(Onboarding.deal_id).where(Onboarding.company_id == company_id)
    return list(session.scalars(query.order_by(Onboarding.id)))

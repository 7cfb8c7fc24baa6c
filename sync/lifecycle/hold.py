"""On hold: an admin sets the deal's onboarding status to ``on_hold`` in HubSpot, and back.

The app writes that same property (on track, at risk ...), so most of its change events are
our own writes coming back: only an event that would change the hold is queued
(sync/intake/routing.py). The job reads the deal's current value before acting, since
webhooks arrive late and out of order.
An onboarding on hold gets no check-ins, reminders or escalations; the progress write-back
leaves it alone until the admin picks another value, when it is recomputed and written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update

from connectors.errors import Transient
from sync.jobs.payloads import HoldJob
from sync.lifecycle.reasons import ON_HOLD, status_property
from sync.progress.writeback import refresh
from sync.services import Services
from sync.store.models import Onboarding


def run_hold(services: Services, job: HoldJob, heartbeat: Callable[[], None] = lambda: None) -> str:
    """Put the onboarding on hold, or back to active, as the deal says now."""
    deal_id = job.deal_id
    prop = status_property(services)
    value = services.hubspot.read_deal(deal_id, [prop]).properties.get(prop)
    with services.store.session() as session:
        onboarding = session.scalar(select(Onboarding).where(Onboarding.deal_id == deal_id))
        if onboarding is None:
            return "no onboarding for this deal"
        status, onboarding_id = onboarding.status, onboarding.id
    if value == ON_HOLD:
        if status == "starting":
            raise Transient("worker", "the kickoff is running; the hold waits for it")
        if status != "active":
            return f"the onboarding is {status}: not put on hold"
        _set_status(services, onboarding_id, "active", ON_HOLD)
        return "onboarding on hold"
    if status != ON_HOLD:
        return f"the deal says {value!r} and the onboarding is {status}: nothing to resume"
    _set_status(services, onboarding_id, ON_HOLD, "active")
    refresh(services, [onboarding_id])  # the computed status replaces the admin's pick
    return "onboarding resumed"


def _set_status(services: Services, onboarding_id: int, old: str, new: str) -> None:
    """Change the status only from ``old`` (a concurrent end or kickoff wins)."""
    with services.store.session() as session:
        onboarding = session.get(Onboarding, onboarding_id)
        assert onboarding is not None
        written = {**onboarding.written, "status": ON_HOLD} if new == ON_HOLD else None
        values: dict[str, Any] = {"status": new, "updated_at": services.now()}
        if written is not None:
            values["written"] = written  # HubSpot shows on_hold: resuming writes the status
        session.execute(
            update(Onboarding)
            .where(Onboarding.id == onboarding_id, Onboarding.status == old)
            .values(**values)
        )

"""Milestones out: the Customer.io event the email sequence waits for, and a note in the channel.

Each announcement is a job (one per onboarding and milestone) whose side effects are ledger
steps, and each Customer.io event carries a stable id: announced once, even when the poll
sees the milestone twice or the process dies between the write and the event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from connectors.errors import Permanent
from sync.kickoff.run import template_context
from sync.services import Services
from sync.store.ledger import Ledger
from sync.store.models import Onboarding

# The Customer.io event per milestone: campaigns use them to stop or start messages (the day-1
# setup reminder stops on setup_form_completed).
EVENTS = {
    "setup_form": "setup_form_completed",
    "first_value": "first_value_reached",
    "go_live": "went_live",
    "completed": "onboarding_completed",
}


def announce_milestone(
    services: Services, payload: dict[str, Any], heartbeat: Callable[[], None]
) -> str | None:
    """Tell Customer.io (per contact) and the customer's channel that a milestone was reached."""
    name, deal_id = payload["milestone"], payload["deal_id"]
    with services.store.session() as session:
        onboarding = session.scalar(select(Onboarding).where(Onboarding.deal_id == deal_id))
        if onboarding is None:
            raise Permanent("worker", f"no onboarding for deal {deal_id}")
        _ = list(onboarding.tasks)
    if onboarding.status in ("cancelled", "churned"):
        return f"{name}: onboarding {onboarding.status}, not announced"
    ledger = Ledger(services.store, onboarding.id, on_step=heartbeat)
    data = {"milestone": name, "reached_on": payload["on"], "deal_id": deal_id}
    for contact in onboarding.context.get("contacts", []):
        if not contact.get("email"):
            continue
        ledger.run(
            f"milestone.{name}.customerio:{contact['id']}",
            "customerio",
            lambda _r, pid=contact["id"]: services.customerio.track(
                pid, EVENTS[name], data, f"{deal_id}:{name}"
            ),
        )
    _, channel = ledger.current("slack.channel")  # a repaired channel is the current one
    if channel:
        text = services.mappings.messages.render(
            f"milestone_{name}", onboarding.locale, template_context(services, onboarding)
        )
        ledger.run(
            f"milestone.{name}.slack",
            "slack",
            lambda recovering: services.slack.post_once(
                channel, text, f"milestone:{deal_id}:{name}", recovering
            ),
        )
    return None

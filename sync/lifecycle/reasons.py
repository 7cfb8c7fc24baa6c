"""The words of an onboarding's life after the win, shared by the router and the jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sync.services import Services

LOST, DELETED, CHURNED = "lost", "deleted", "churned"  # why an onboarding ends
STATUS = {LOST: "cancelled", DELETED: "cancelled", CHURNED: "churned"}  # ... and its status then
ENDED = ("cancelled", "churned")
ON_HOLD = "on_hold"
# Statuses that get no more check-ins, reminders or escalations.
PAUSED = (ON_HOLD, *ENDED, "completed")


def status_property(services: Services) -> str:
    """The deal property an admin edits to put an onboarding on hold: fields.yaml's status."""
    return services.mappings.fields.hubspot.deal.status

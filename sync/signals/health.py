"""An onboarding's health: the facts the signal pass found, and the 0-100 score they make.

Pure, so the README's rules can be read here and trusted: start at ``health.start``, minus
points for low activity, no email opened, each recent bounce, each overdue task (capped),
each missed meeting (a kickoff or check-in task past due), and being at risk; clamped 0-100.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sync.mappings import HealthPoints
from sync.store.models import Onboarding


@dataclass(frozen=True)
class Facts:
    """What one signal pass knows about one onboarding."""

    logins: int | None  # None: no activity source for this customer
    low_activity: bool
    no_opens: bool
    bounces: int
    overdue: int
    missed_meetings: int
    at_risk: bool

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def score(facts: Facts, points: HealthPoints) -> int:
    """The health score of these facts under these points, 0-100."""
    value = points.start
    value -= points.low_activity if facts.low_activity else 0
    value -= points.no_opens if facts.no_opens else 0
    value -= points.bounce * facts.bounces
    value -= min(points.overdue_task * facts.overdue, points.overdue_max)
    value -= points.missed_meeting * facts.missed_meetings
    value -= points.at_risk if facts.at_risk else 0
    return max(0, min(100, value))


def hubspot_values(onboarding: Onboarding, status: str) -> dict[str, str]:
    """The score, and ``at_risk`` over an on-track progress status, for the write-back."""
    values = {}
    if onboarding.health_score is not None:
        values["health_score"] = str(onboarding.health_score)
    if status == "on_track" and (onboarding.health or {}).get("at_risk"):
        values["status"] = "at_risk"
    return values

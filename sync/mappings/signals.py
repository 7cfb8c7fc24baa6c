"""signals.yaml: how quiet-customer signals become tasks, notes, at-risk and a health score."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sync.mappings.base import HUBSPOT_NAME_PATTERN, Strict

# What a signal template may use under `signal.` besides records, roles and onboarding.
SIGNAL_KEYS = frozenset({"logins", "threshold", "days", "email", "reason"})


class ActivityProperty(Strict):
    """A HubSpot number property holding the customer's logins of the last week."""

    object: Literal["deal", "company"] = "company"
    property: str = Field(pattern=HUBSPOT_NAME_PATTERN)


class LowActivity(Strict):
    """Fewer than `below` events of `kinds` in `days` days: a check-in task and a Slack note."""

    kinds: list[Literal["login", "usage"]] = Field(default=["login"], min_length=1)
    below: int = Field(default=5, ge=1)
    days: int = Field(default=7, ge=1)
    after_days: int = Field(default=7, ge=0)
    task_title: str = "Check in with {company.name}: {signal.logins} logins in {signal.days} days"
    task_due_in_business_days: int = Field(default=2, ge=0)
    notify: str = (
        "Quiet customer: {company.name} logged in {signal.logins} times in the last"
        " {signal.days} days (fewer than {signal.threshold}). A check-in task is in Notion:"
        " {onboarding.project_url}"
    )


class QuietEmail(Strict):
    """No email opened for `days` days plus an overdue customer-facing task: at risk."""

    days: int = Field(default=7, ge=1)
    opened: list[str] = Field(default=["opened", "clicked"], min_length=1)


class Bounces(Strict):
    """A bounced email: the CSM hears it once per bounce and switches channel."""

    metrics: list[str] = Field(default=["bounced"], min_length=1)
    notify: str = (
        "An email to {signal.email} at {company.name} bounced ({signal.reason})."
        " Switch channel: call them or reach another contact."
    )


class HealthPoints(Strict):
    """The health score: start, minus points per signal, clamped to 0-100 (README)."""

    start: int = Field(default=100, ge=0, le=100)
    low_activity: int = Field(default=25, ge=0)
    no_opens: int = Field(default=15, ge=0)
    bounce: int = Field(default=10, ge=0)
    bounce_days: int = Field(default=30, ge=1)
    overdue_task: int = Field(default=5, ge=0)
    overdue_max: int = Field(default=25, ge=0)
    missed_meeting: int = Field(default=10, ge=0)
    at_risk: int = Field(default=20, ge=0)


class SignalRules(Strict):
    """signals.yaml: how quiet-customer signals become tasks, notes, at-risk and a score."""

    activity_property: ActivityProperty | None = None
    low_activity: LowActivity = LowActivity()
    quiet_email: QuietEmail = QuietEmail()
    bounce: Bounces = Bounces()
    health: HealthPoints = HealthPoints()

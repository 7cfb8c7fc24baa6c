"""Milestones out: the Customer.io event the email sequence waits for, and a note in the channel.

Each announcement is a job (one per onboarding and milestone) whose side effects are ledger
steps, and each Customer.io event carries a stable id: announced once, even when the poll
sees the milestone twice or the process dies between the write and the event.
"""

from __future__ import annotations

from collections.abc import Callable

from connectors.errors import Permanent
from sync.jobs.payloads import MilestoneJob
from sync.lifecycle.reasons import ENDED
from sync.onboarding.run import OnboardingRun, load_onboarding
from sync.onboarding.steps import SLACK_CHANNEL, milestone_customerio, milestone_slack
from sync.services import Services

# The Customer.io event per milestone: campaigns use them to stop or start messages (the day-1
# setup reminder stops on setup_form_completed).
EVENTS = {
    "setup_form": "setup_form_completed",
    "first_value": "first_value_reached",
    "go_live": "went_live",
    "completed": "onboarding_completed",
}


def announce_milestone(
    services: Services, job: MilestoneJob, heartbeat: Callable[[], None] = lambda: None
) -> str | None:
    """Tell Customer.io (per contact) and the customer's channel that a milestone was reached."""
    name, deal_id = job.milestone, job.deal_id
    onboarding = load_onboarding(services, deal_id)
    if onboarding is None:
        raise Permanent("worker", f"no onboarding for deal {deal_id}")
    if onboarding.status in ENDED:
        return f"{name}: onboarding {onboarding.status}, not announced"
    run = OnboardingRun.of(services, onboarding, heartbeat)
    ledger = run.ledger
    data = {"milestone": name, "reached_on": job.on, "deal_id": deal_id}
    for contact in run.facts.emailed_contacts:
        ledger.run(
            milestone_customerio(name, contact["id"]),
            "customerio",
            lambda _r, pid=contact["id"]: services.customerio.track(
                pid, EVENTS[name], data, f"{deal_id}:{name}"
            ),
        )
    _, channel = ledger.current(SLACK_CHANNEL)  # a repaired channel is the current one
    if channel:
        text = services.mappings.messages.render_for_slack(
            f"milestone_{name}", onboarding.locale, run.context
        )
        ledger.run(
            milestone_slack(name),
            "slack",
            lambda recovering: services.slack.post_once(
                channel, text, f"milestone:{deal_id}:{name}", recovering
            ),
        )
    return None

"""The kickoff in HubSpot: the onboarding fields on the deal and company, links included."""

from __future__ import annotations

import hashlib
import json

from sync.onboarding.crm import write_fields
from sync.onboarding.run import OnboardingRun
from sync.onboarding.steps import hubspot_properties

ONBOARDING_STATUS_AT_START = "on_track"


def write_onboarding_fields(run: OnboardingRun) -> None:
    """One step keyed by the values, so links made by a later run get written too."""
    onboarding, links = run.onboarding, run.facts.links
    required = sorted(
        (t for t in onboarding.tasks if t.required), key=lambda t: (t.due_date, t.position)
    )
    next_task = required[0] if required else None
    values = {
        "status": ONBOARDING_STATUS_AT_START,
        "segment": onboarding.segment or "",
        "progress": "0",
        "next_task": next_task.title if next_task else "",
        "next_task_due": next_task.due_date.isoformat() if next_task else "",
        "project_url": links.project_url,
        "channel_url": links.channel_url,
        "started_at": onboarding.won_at.date().isoformat(),
    }
    digest = hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:12]

    def write(recovering: bool) -> str:
        write_fields(run.services, onboarding, values)
        return digest

    run.ledger.run(hubspot_properties(digest), "hubspot", write)

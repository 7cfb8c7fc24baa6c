"""What templates see of an onboarding (messages, property values, names), and its links."""

from __future__ import annotations

from typing import Any

from connectors.notion import property_value
from sync.onboarding.context import OnboardingContext
from sync.onboarding.steps import SLACK_CHANNEL
from sync.onboarding.templates import render
from sync.services import Services
from sync.store.ledger import Ledger
from sync.store.models import Onboarding, OnboardingTask


def hubspot_deal_url(services: Services, deal_id: str, portal_id: str | None) -> str:
    portal = portal_id or services.settings.hubspot_portal_id or ""
    return f"https://app.hubspot.com/contacts/{portal}/record/0-3/{deal_id}"


def deal_url(services: Services, onboarding: Onboarding) -> str:
    """The onboarding's deal in HubSpot."""
    return hubspot_deal_url(
        services, onboarding.deal_id, OnboardingContext.of(onboarding).portal_id
    )


def template_context(services: Services, onboarding: Onboarding) -> dict[str, Any]:
    """What message and property templates may use (see the header of mappings/fields.yaml)."""
    facts = OnboardingContext.of(onboarding)
    kickoff = next((t for t in onboarding.tasks if "kickoff" in (t.flags or [])), None)
    segment = next(s for s in services.mappings.segments if s.key == onboarding.segment)
    playbook = services.mappings.playbook(onboarding.playbook or segment.playbook)
    _, channel_id = Ledger(services.store, onboarding.id).current(SLACK_CHANNEL)
    base: dict[str, Any] = {
        **facts.records,
        "roles": {key: vars(person) for key, person in facts.roles.items()},
    }
    base["onboarding"] = {
        "segment": onboarding.segment,
        "segment_label": segment.label,
        "playbook": playbook.key,
        "plan": playbook.label,
        "project_url": facts.links.project_url,
        "channel_id": channel_id or "",
        "channel_name": facts.links.channel_name,
        "channel_url": facts.links.channel_url,
        "deal_url": deal_url(services, onboarding),
        "kickoff_date": kickoff.due_date.isoformat() if kickoff else "",
        "locale": onboarding.locale,
        "won_at": onboarding.won_at.date().isoformat(),
        "started_at": onboarding.created_at.date().isoformat(),
        "days_since_won": str((services.now() - onboarding.won_at).days),
    }
    base["onboarding"]["portal_url"] = render(services.mappings.fields.portal_url, base)
    return base


def task_fields(task: OnboardingTask, phase_label: str) -> dict[str, Any]:
    """A task as templates see it (``{task.title}``, ``{task.due_date}``...)."""
    return {
        "key": task.key,
        "title": task.title,
        "phase": task.phase,
        "phase_label": phase_label,
        "owner": task.owner_role,
        "owner_email": task.owner_email or "",
        "due_date": task.due_date.isoformat(),
        "required": "yes" if task.required else "no",
    }


def extra_properties(specs: list[Any], context: dict[str, Any]) -> dict[str, Any]:
    """The admin's extra Notion properties (fields.yaml), rendered for this context."""
    return {spec.property: property_value(spec.type, render(spec.value, context)) for spec in specs}

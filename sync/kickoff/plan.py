"""The plan: read the CRM once, pick the segment and playbook, name each role's person, date
each task, and freeze it all in the store before anything is created anywhere."""

from __future__ import annotations

from typing import Any

from connectors.errors import NotFound
from sync.jobs.payloads import KickoffJob, moment
from sync.onboarding.context import OnboardingContext, Person
from sync.onboarding.run import load_onboarding
from sync.services import Services
from sync.store.models import Onboarding, OnboardingTask

DEFAULT_DEAL_PROPERTIES = ("dealname", "dealstage", "pipeline", "amount", "hubspot_owner_id")


def load_or_plan(services: Services, job: KickoffJob) -> Onboarding | str:
    """The deal's onboarding (planned now if new); a string says why there is none to run."""
    existing = load_onboarding(services, job.deal_id)
    if existing is not None:
        return existing
    mappings, hubspot = services.mappings, services.hubspot
    read = mappings.fields.read
    try:
        deal = hubspot.read_deal(job.deal_id, sorted({*read.deal, *DEFAULT_DEAL_PROPERTIES}))
    except NotFound:
        return "the deal was deleted in HubSpot before the kickoff ran"
    # The deal's stage now, from HubSpot, decides: the event's stage may be stale (a deal won
    # and lost again) or forged (a webhook secret leaked), and a kickoff cannot be undone.
    pipeline = deal.properties.get("pipeline") or ""
    current = deal.properties.get("dealstage") or ""
    if mappings.triggers.cancels(pipeline, current):
        return f"the deal was lost (stage {current!r}) before the kickoff ran"
    if not mappings.triggers.starts(pipeline, current):
        return (
            f"the deal is in stage {current!r} of pipeline {pipeline!r}, which starts no"
            f" onboarding (the event said {job.stage!r}): nothing started"
        )
    company_ids = deal.associations.get("companies", [])
    company = hubspot.read_company(company_ids[0], read.company) if company_ids else None
    contacts = hubspot.read_contacts(deal.associations.get("contacts", []), read.contact)
    records = {
        "deal": {**deal.properties, "id": deal.id},
        "company": {**(company.properties if company else {}), "id": company.id if company else ""},
        "contact": {
            **(contacts[0].properties if contacts else {}),
            "id": contacts[0].id if contacts else "",
        },
    }
    facts = OnboardingContext(
        records=records,
        contacts=[{**c.properties, "id": c.id} for c in contacts],
        roles=_resolve_roles(services, records),
        portal_id=job.portal_id or services.settings.hubspot_portal_id,
    )
    return _freeze(services, job, facts, deal.properties.get("dealname"))


def _freeze(
    services: Services, job: KickoffJob, facts: OnboardingContext, deal_name: str | None
) -> Onboarding:
    """Store the onboarding and its dated tasks in one transaction."""
    mappings = services.mappings
    segment = mappings.segment_for(facts.records)
    playbook = mappings.playbook(segment.playbook)
    won_at = moment(job.occurred_at_ms, services.now())
    company = facts.records["company"]
    locale = (facts.records["contact"].get("hs_language") or "en").split("-")[0].lower()
    onboarding = Onboarding(
        deal_id=job.deal_id,
        company_id=company["id"] or None,
        company_name=company.get("name") or deal_name,
        status="starting",
        segment=segment.key,
        playbook=playbook.key,
        mappings_fingerprint=mappings.fingerprint,
        locale=locale,
        won_at=won_at,
        context=facts.to_json(),
    )
    tz = services.settings.tz
    with services.store.session() as session:
        session.add(onboarding)
        session.flush()
        for position, task in enumerate(playbook.tasks):
            session.add(
                OnboardingTask(
                    onboarding_id=onboarding.id,
                    key=task.key,
                    position=position,
                    title=task.title,
                    phase=task.phase,
                    owner_role=task.owner,
                    owner_email=facts.email_of(task.owner),
                    due_date=services.calendar.due_date(won_at, task.due_in, tz),
                    required=task.required,
                    flags=list(task.flags),
                )
            )
    planned = load_onboarding(services, job.deal_id)
    assert planned is not None
    return planned


def _resolve_roles(services: Services, records: dict[str, dict[str, Any]]) -> dict[str, Person]:
    """Each role's person: a HubSpot owner, a fixed address, or the customer's contact."""
    people: dict[str, Person] = {}
    for key, role in services.mappings.roles.items():
        name, email = "", None
        owner_id = role.owner_id(records)
        if owner_id:
            try:
                owner = services.hubspot.owner(owner_id)
                name, email = owner.name, owner.email
            except NotFound:
                pass  # a deactivated owner: fall back below
        elif role.email:
            name, email = role.label, role.email
        elif role.customer:
            contact = records["contact"]
            name = " ".join(filter(None, (contact.get("firstname"), contact.get("lastname"))))
            email = contact.get("email")
        if not email and role.fallback_email:
            name, email = name or role.label, role.fallback_email
        people[key] = Person(label=role.label, name=name, email=email)
    return people

"""The kickoff in Customer.io: each contact identified, added to the segment, and told the
onboarding started (the event the email sequence waits for)."""

from __future__ import annotations

from connectors.errors import Permanent
from sync.onboarding.run import OnboardingRun
from sync.onboarding.steps import CUSTOMERIO_SEGMENT, customerio_event, customerio_identify
from sync.onboarding.templates import render


def start_email_sequence(run: OnboardingRun) -> None:
    services, onboarding, ledger = run.services, run.onboarding, run.ledger
    cio, settings, fields = services.customerio, services.settings, services.mappings.fields
    if not settings.customerio_segment_id:
        raise Permanent("customerio", "CUSTOMERIO_SEGMENT_ID is not set (a manual segment's id)")
    people = run.facts.emailed_contacts
    for contact in people:
        person_context = {**run.context, "contact": contact}
        attributes = {k: render(v, person_context) for k, v in fields.customerio.identify.items()}
        ledger.run(
            customerio_identify(contact["id"]),
            "customerio",
            lambda _r, pid=contact["id"], a=attributes: cio.identify(pid, a) or pid,
        )
    ids = [c["id"] for c in people]
    if ids:
        segment_id = settings.customerio_segment_id
        ledger.run(
            CUSTOMERIO_SEGMENT,
            "customerio",
            lambda _r: cio.add_to_segment(segment_id, ids) or segment_id,
        )
    data = {k: render(v, run.context) for k, v in fields.customerio.onboarding_started.items()}
    for contact in people:
        ledger.run(
            customerio_event(contact["id"]),
            "customerio",
            lambda _r, pid=contact["id"]: cio.track(
                pid, "onboarding_started", data, f"{onboarding.deal_id}:onboarding_started"
            ),
        )

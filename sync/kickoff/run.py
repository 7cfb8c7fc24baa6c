"""The kickoff: a won deal becomes a Notion plan, a Slack channel, an email sequence, CRM fields.

Each side effect is a ledger step, so running the job again (a redelivery, a crash, a retry
after a fix) completes what is missing and repeats nothing. Services fail independently: a
permanent error in one leaves the others' work done and is listed with its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from connectors.errors import ConnectorError, Permanent, Transient
from sync.jobs.payloads import KickoffJob
from sync.kickoff.crm_fields import write_onboarding_fields
from sync.kickoff.email_sequence import start_email_sequence
from sync.kickoff.notion_plan import create_notion_plan
from sync.kickoff.plan import load_or_plan
from sync.kickoff.slack_channel import ensure_channel, post_summary
from sync.onboarding.run import OnboardingRun
from sync.services import Services
from sync.store.models import Onboarding

# Notion, Slack and Customer.io do not depend on each other: they run side by side, so the
# kickoff takes as long as the slowest (Notion's 3 requests/s), not their sum.
INDEPENDENT = (create_notion_plan, ensure_channel, start_email_sequence)
# Then what needs their results: the summary links the Notion plan, HubSpot records every link.
AFTERWARDS = (post_summary, write_onboarding_fields)


@dataclass
class KickoffOutcome:
    onboarding_id: int | None
    skipped: str | None = None


def run_kickoff(
    services: Services, job: KickoffJob, heartbeat: Callable[[], None] = lambda: None
) -> KickoffOutcome:
    """Run (or finish) the kickoff of one won deal; see the module docstring for guarantees."""
    onboarding = load_or_plan(services, job)
    if isinstance(onboarding, str):
        return KickoffOutcome(None, skipped=onboarding)
    if onboarding.ended_at is not None:  # lost, deleted or churned: a retry must not go on
        return KickoffOutcome(onboarding.id, skipped=f"onboarding {onboarding.status}")
    run = OnboardingRun.of(services, onboarding, heartbeat)
    with ThreadPoolExecutor(len(INDEPENDENT), thread_name_prefix=f"kickoff-{job.deal_id}") as pool:
        running = [pool.submit(step, run) for step in INDEPENDENT]
        errors = [future.exception() for future in running]
    for step in AFTERWARDS:
        try:
            step(run)
        except ConnectorError as exc:
            errors.append(exc)
    for error in errors:
        if error is not None and not isinstance(error, ConnectorError):
            raise error  # a bug, not a service failure: let the worker record it
    permanent = [e for e in errors if isinstance(e, Permanent)]
    transient = [e for e in errors if isinstance(e, Transient)]
    if permanent or not transient:
        _set_status(services, onboarding, "failed" if permanent else "active")
    if transient:
        waits = [e.retry_after for e in transient if e.retry_after is not None]
        raise Transient(
            "kickoff", "; ".join(str(e) for e in transient), max(waits) if waits else None
        )
    if permanent:
        raise Permanent("kickoff", "; ".join(str(e) for e in permanent))
    return KickoffOutcome(onboarding.id)


def _set_status(services: Services, onboarding: Onboarding, status: str) -> None:
    with services.store.session() as session:
        row = session.get(Onboarding, onboarding.id)
        assert row is not None
        if row.ended_at is None:  # an end recorded meanwhile stays
            row.status = onboarding.status = status

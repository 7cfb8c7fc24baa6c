"""The kickoff: a won deal becomes a Notion plan, a Slack channel, an email sequence, CRM fields.

Each side effect is a ledger step, so running the job again (a redelivery, a crash, a retry
after a fix) completes what is missing and repeats nothing. Services fail independently: a
permanent error in one leaves the others' work done and is listed with its reason.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from connectors.errors import ConnectorError, NotFound, Permanent, Transient
from connectors.notion import property_value
from sync.onboarding import notion_schema
from sync.onboarding.calendar import due_date
from sync.onboarding.crm import write_fields
from sync.onboarding.templates import render
from sync.services import Services
from sync.store.ledger import Ledger
from sync.store.models import Onboarding, OnboardingTask

DEFAULT_DEAL_PROPERTIES = ("dealname", "dealstage", "pipeline", "amount", "hubspot_owner_id")
ONBOARDING_STATUS_AT_START = "on_track"


class KickoffFailed(Exception):
    """Some services failed for good; the rest is done. ``failures`` lists each reason."""

    def __init__(self, failures: list[ConnectorError]) -> None:
        super().__init__("; ".join(str(f) for f in failures))
        self.failures = failures


class KickoffRetry(Exception):
    """A service was unavailable for longer than the connector's own retries; try later."""


@dataclass
class KickoffOutcome:
    onboarding_id: int | None
    skipped: str | None = None
    failures: list[str] = field(default_factory=list)


def run_kickoff(
    services: Services, payload: dict[str, Any], heartbeat: Callable[[], None] = lambda: None
) -> KickoffOutcome:
    """Run (or finish) the kickoff of one won deal; see the module docstring for guarantees."""
    onboarding = _load_or_plan(services, payload)
    if isinstance(onboarding, str):
        return KickoffOutcome(None, skipped=onboarding)
    if onboarding.ended_at is not None:  # lost, deleted or churned: a retry must not go on
        return KickoffOutcome(onboarding.id, skipped=f"onboarding {onboarding.status}")
    ledger = Ledger(services.store, onboarding.id, on_step=heartbeat)
    # Notion, Slack and Customer.io do not depend on each other: run them side by side, so
    # the kickoff takes as long as the slowest (Notion's 3 requests/s), not their sum. HubSpot
    # goes last because it records the links the others made.
    with ThreadPoolExecutor(3, thread_name_prefix=f"kickoff-{onboarding.deal_id}") as pool:
        running = [pool.submit(fan, services, onboarding, ledger) for fan in INDEPENDENT]
        errors = [future.exception() for future in running]
    try:
        _hubspot(services, onboarding, ledger)
    except ConnectorError as exc:
        errors.append(exc)
    for error in errors:
        if error is not None and not isinstance(error, ConnectorError):
            raise error  # a bug, not a service failure: let the worker record it
    permanent = [e for e in errors if isinstance(e, Permanent)]
    transient = [e for e in errors if isinstance(e, Transient)]
    _set_status(
        services, onboarding, "failed" if permanent else "active" if not transient else None
    )
    if transient:
        raise KickoffRetry("; ".join(str(e) for e in transient))
    if permanent:
        raise KickoffFailed(permanent)
    return KickoffOutcome(onboarding.id)


# ----- planning: read the CRM once, freeze the plan in the store ---------------------------


def _load_or_plan(services: Services, payload: dict[str, Any]) -> Onboarding | str:
    deal_id = str(payload["deal_id"])
    with services.store.session() as session:
        existing = session.scalar(select(Onboarding).where(Onboarding.deal_id == deal_id))
        if existing is not None:
            return _with_tasks(services, existing.id)
    mappings, hubspot = services.mappings, services.hubspot
    read = mappings.fields.read
    try:
        deal = hubspot.read_deal(deal_id, sorted({*read.deal, *DEFAULT_DEAL_PROPERTIES}))
    except NotFound:
        return "the deal was deleted in HubSpot before the kickoff ran"
    pipeline = deal.properties.get("pipeline") or ""
    stage = payload.get("stage") or deal.properties.get("dealstage") or ""
    if not mappings.triggers.starts(pipeline, stage):
        return f"stage {stage!r} of pipeline {pipeline!r} does not start an onboarding"
    current = deal.properties.get("dealstage") or ""
    if mappings.triggers.cancels(pipeline, current):
        return f"the deal was lost (stage {current!r}) before the kickoff ran"
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
    segment = mappings.segment_for(records)
    playbook = mappings.playbook(segment.playbook)
    won_at = _won_at(payload, services)
    roles = _resolve_roles(services, records)
    locale = (records["contact"].get("hs_language") or "en").split("-")[0].lower()
    context = {
        "records": records,
        "contacts": [{**c.properties, "id": c.id} for c in contacts],
        "roles": roles,
        "portal_id": payload.get("portal_id") or services.settings.hubspot_portal_id,
    }
    onboarding = Onboarding(
        deal_id=deal_id,
        company_id=records["company"]["id"] or None,
        company_name=records["company"].get("name") or deal.properties.get("dealname"),
        status="starting",
        segment=segment.key,
        playbook=playbook.key,
        mappings_fingerprint=mappings.fingerprint,
        locale=locale,
        won_at=won_at,
        context=context,
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
                    owner_email=roles.get(task.owner, {}).get("email"),
                    due_date=due_date(won_at, task.due_in, tz),
                    required=task.required,
                    flags=list(task.flags),
                )
            )
    return _with_tasks(services, onboarding.id)


def _with_tasks(services: Services, onboarding_id: int) -> Onboarding:
    with services.store.session() as session:
        onboarding = session.get(Onboarding, onboarding_id)
        assert onboarding is not None
        _ = list(onboarding.tasks)  # load them before the session closes
        return onboarding


def _won_at(payload: dict[str, Any], services: Services) -> datetime:
    occurred = payload.get("occurred_at_ms")
    if occurred:
        return datetime.fromtimestamp(int(occurred) / 1000, tz=UTC)
    return services.now()


def _resolve_roles(services: Services, records: dict[str, dict[str, Any]]) -> dict[str, dict]:
    """Each role's person: a HubSpot owner, a fixed address, or the customer's contact."""
    people: dict[str, dict[str, Any]] = {}
    for key, role in services.mappings.roles.items():
        person: dict[str, Any] = {"label": role.label, "name": "", "email": None}
        owner_id = role.owner_id(records)
        if owner_id:
            try:
                owner = services.hubspot.owner(owner_id)
                person.update(name=owner.name, email=owner.email)
            except NotFound:
                pass  # a deactivated owner: fall back below
        elif role.email:
            person.update(email=role.email, name=role.label)
        elif role.customer:
            contact = records["contact"]
            full = " ".join(filter(None, (contact.get("firstname"), contact.get("lastname"))))
            person.update(email=contact.get("email"), name=full)
        if not person["email"] and role.fallback_email:
            person.update(email=role.fallback_email, name=person["name"] or role.label)
        people[key] = person
    return people


# ----- the fan-out, one function per service ----------------------------------------------


def template_context(services: Services, onboarding: Onboarding) -> dict[str, Any]:
    """What message and property templates may use (see mappings/README in fields.yaml)."""
    records = onboarding.context["records"]
    extra = onboarding.context.get("links", {})
    kickoff = next((t for t in onboarding.tasks if "kickoff" in (t.flags or [])), None)
    segment = next(s for s in services.mappings.segments if s.key == onboarding.segment)
    playbook = services.mappings.playbook(onboarding.playbook or segment.playbook)
    base = {**records, "roles": onboarding.context["roles"]}
    base["onboarding"] = {
        "segment": onboarding.segment,
        "segment_label": segment.label,
        "playbook": playbook.key,
        "plan": playbook.label,
        "project_url": extra.get("project_url", ""),
        "channel_id": extra.get("channel_id", ""),
        "channel_name": extra.get("channel_name", ""),
        "channel_url": extra.get("channel_url", ""),
        "kickoff_date": kickoff.due_date.isoformat() if kickoff else "",
        "locale": onboarding.locale,
        "won_at": onboarding.won_at.date().isoformat(),
        "started_at": onboarding.created_at.date().isoformat(),
        "days_since_won": str((services.now() - onboarding.won_at).days),
    }
    base["onboarding"]["portal_url"] = render(services.mappings.fields.portal_url, base)
    return base


def _remember_link(services: Services, onboarding: Onboarding, **links: str) -> None:
    with services.store.session() as session:
        row = session.get(Onboarding, onboarding.id)
        assert row is not None
        row.context = {**row.context, "links": {**row.context.get("links", {}), **links}}
        onboarding.context = row.context


def step_name(name: str, generation: int = 1) -> str:
    """A ledger step's name; a repair's re-creation is a new generation (`notion.project#2`)."""
    return name if generation == 1 else f"{name}#{generation}"


def _data_sources(services: Services) -> tuple[str, str]:
    """The projects and tasks data sources."""
    notion, settings = services.notion, services.settings
    if not settings.notion_projects_database_id or not settings.notion_tasks_database_id:
        raise Permanent(
            "notion",
            "NOTION_PROJECTS_DATABASE_ID / NOTION_TASKS_DATABASE_ID not set"
            " (run `flask setup` to create the databases)",
        )
    return (
        notion.data_source_id(settings.notion_projects_database_id),
        notion.data_source_id(settings.notion_tasks_database_id),
    )


def ensure_project(
    services: Services, onboarding: Onboarding, ledger: Ledger, generation: int = 1
) -> str:
    """The onboarding's Notion project page, made once per generation; returns its id."""
    notion = services.notion
    projects, _ = _data_sources(services)
    context = template_context(services, onboarding)
    deal_url = hubspot_deal_url(services, onboarding)

    def create_project(recovering: bool) -> str:
        if recovering:
            found = notion.find_by_text(projects, notion_schema.DEAL_ID, onboarding.deal_id)
            if found:
                _remember_link(services, onboarding, project_url=found["url"])
                return found["id"]
        props = notion_schema.project_properties(onboarding, deal_url)
        props |= _extra_properties(services.mappings.fields.notion.project, context)
        page = notion.create_page(projects, props)
        _remember_link(services, onboarding, project_url=page["url"])
        return page["id"]

    project_id = ledger.run(step_name("notion.project", generation), "notion", create_project)
    assert project_id is not None
    return project_id


def task_page(
    services: Services,
    onboarding: Onboarding,
    task: OnboardingTask,
    project_id: str | None,
    recovering: bool,
    extra: dict[str, Any] | None = None,
) -> str:
    """The task's Notion page: found by its Task ID when an earlier attempt may have made it,
    else created (in the project, when there is one). For a ledger step's action."""
    _, tasks = _data_sources(services)
    key = notion_schema.task_key(onboarding.deal_id, task.key)
    if recovering and (found := services.notion.find_by_text(tasks, notion_schema.TASK_ID, key)):
        return found["id"]
    props = notion_schema.task_properties(
        task, key, project_id or "", hubspot_deal_url(services, onboarding)
    )
    if project_id is None:
        del props[notion_schema.PROJECT]
    return services.notion.create_page(tasks, props | (extra or {}))["id"]


def _notion(services: Services, onboarding: Onboarding, ledger: Ledger) -> None:
    project_id = ensure_project(services, onboarding, ledger)
    context = template_context(services, onboarding)
    playbook = services.mappings.playbook(onboarding.playbook or "")
    for task in (t for t in onboarding.tasks if not t.added_in_notion):
        task_context = {**context, "task": _task_fields(task, playbook.phase_label(task.phase))}

        extra = _extra_properties(services.mappings.fields.notion.task, task_context)
        page_id = ledger.run(
            f"notion.task:{task.key}",
            "notion",
            lambda recovering, task=task, extra=extra: task_page(
                services, onboarding, task, project_id, recovering, extra
            ),
        )
        if task.notion_page_id != page_id:
            with services.store.session() as session:
                row = session.get(OnboardingTask, task.id)
                assert row is not None
                row.notion_page_id = task.notion_page_id = page_id


def ensure_slack(
    services: Services, onboarding: Onboarding, ledger: Ledger, generation: int = 1
) -> None:
    """Channel, invitations, summary; a repair's generation takes a new name (`-2`)."""
    slack, settings, mappings = services.slack, services.settings, services.mappings
    context = template_context(services, onboarding)
    roles = onboarding.context["roles"]
    suffix = f"-{generation}" if generation > 1 else ""  # the old name stays taken when archived

    def create_channel(recovering: bool) -> str:
        channel = slack.ensure_channel(render(mappings.fields.slack.channel_name, context) + suffix)
        url = f"{settings.slack_workspace_url.rstrip('/')}/archives/{channel.id}"
        _remember_link(
            services, onboarding, channel_id=channel.id, channel_name=channel.name, channel_url=url
        )
        return channel.id

    channel_id = ledger.run(step_name("slack.channel", generation), "slack", create_channel)
    assert channel_id is not None
    if not onboarding.context.get("links", {}).get("channel_url"):
        url = f"{settings.slack_workspace_url.rstrip('/')}/archives/{channel_id}"
        _remember_link(services, onboarding, channel_id=channel_id, channel_url=url)

    def invite(recovering: bool) -> str:
        emails = [roles[r]["email"] for r in ("csm", "ae") if roles.get(r, {}).get("email")]
        user_ids = [uid for uid in (slack.user_id(e) for e in emails) if uid]
        slack.invite(channel_id, user_ids)
        return ",".join(user_ids)

    invited = ledger.run(step_name("slack.invite", generation), "slack", invite) or ""

    def summary(recovering: bool) -> str:
        context = template_context(services, onboarding)
        csm_id = invited.split(",")[0] if invited else ""
        text = mappings.messages.render("csm_summary", "en", context)
        if csm_id:
            text = f"<@{csm_id}> {text}"
        return slack.post_once(channel_id, text, f"summary:{onboarding.deal_id}", recovering)

    ledger.run(step_name("slack.summary", generation), "slack", summary)


def _customerio(services: Services, onboarding: Onboarding, ledger: Ledger) -> None:
    cio, settings, fields = services.customerio, services.settings, services.mappings.fields
    if not settings.customerio_segment_id:
        raise Permanent("customerio", "CUSTOMERIO_SEGMENT_ID is not set (a manual segment's id)")
    context = template_context(services, onboarding)
    people = [c for c in onboarding.context["contacts"] if c.get("email")]
    for contact in people:
        person_context = {**context, "contact": contact}
        attributes = {k: render(v, person_context) for k, v in fields.customerio.identify.items()}
        ledger.run(
            f"customerio.identify:{contact['id']}",
            "customerio",
            lambda _r, pid=contact["id"], a=attributes: cio.identify(pid, a) or pid,
        )
    ids = [c["id"] for c in people]
    if ids:
        ledger.run(
            "customerio.segment",
            "customerio",
            lambda _r: (
                cio.add_to_segment(settings.customerio_segment_id, ids)
                or settings.customerio_segment_id
            ),
        )
    data = {k: render(v, context) for k, v in fields.customerio.onboarding_started.items()}
    for contact in people:
        ledger.run(
            f"customerio.event:{contact['id']}",
            "customerio",
            lambda _r, pid=contact["id"]: cio.track(
                pid, "onboarding_started", data, f"{onboarding.deal_id}:onboarding_started"
            ),
        )


def _hubspot(services: Services, onboarding: Onboarding, ledger: Ledger) -> None:
    """Write the onboarding fields; the step is keyed by their values, so new links get written."""
    links = onboarding.context.get("links", {})
    next_task = next(
        (t for t in sorted(onboarding.tasks, key=lambda t: (t.due_date, t.position)) if t.required),
        None,
    )
    values = {
        "status": ONBOARDING_STATUS_AT_START,
        "segment": onboarding.segment or "",
        "progress": "0",
        "next_task": next_task.title if next_task else "",
        "next_task_due": next_task.due_date.isoformat() if next_task else "",
        "project_url": links.get("project_url", ""),
        "channel_url": links.get("channel_url", ""),
        "started_at": onboarding.won_at.date().isoformat(),
    }
    digest = hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:12]

    def write(recovering: bool) -> str:
        write_fields(services, onboarding, values)
        return digest

    ledger.run(f"hubspot.properties:{digest}", "hubspot", write)


INDEPENDENT = (_notion, ensure_slack, _customerio)


# ----- small helpers -----------------------------------------------------------------------


def hubspot_deal_url(services: Services, onboarding: Onboarding) -> str:
    portal = onboarding.context.get("portal_id") or services.settings.hubspot_portal_id or ""
    return f"https://app.hubspot.com/contacts/{portal}/record/0-3/{onboarding.deal_id}"


def _task_fields(task: OnboardingTask, phase_label: str) -> dict[str, Any]:
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


def _extra_properties(specs: list[Any], context: dict[str, Any]) -> dict[str, Any]:
    return {spec.property: property_value(spec.type, render(spec.value, context)) for spec in specs}


def _set_status(services: Services, onboarding: Onboarding, status: str | None) -> None:
    if status is None:
        return
    with services.store.session() as session:
        row = session.get(Onboarding, onboarding.id)
        assert row is not None
        if row.ended_at is None:  # an end recorded meanwhile stays
            row.status = onboarding.status = status

"""Drift: a project page or channel removed behind the app's back is noticed, then repaired.

People trash Notion pages and archive Slack channels; the onboarding then points at nothing.
The check reads each project once (Notion's 3 requests/s is the budget) and each channel once,
records what is gone in ``Onboarding.drift`` and warns. A repair re-creates only what is gone,
through ledger steps of a new generation (``notion.project#2``), so it too happens once.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from connectors.errors import NotFound
from connectors.notion import property_value
from sync.kickoff.slack_channel import ensure_slack
from sync.onboarding import notion_schema
from sync.onboarding.crm import write_fields
from sync.onboarding.notion_pages import ensure_project
from sync.onboarding.run import OnboardingRun, load_onboarding
from sync.onboarding.steps import (
    NOTION_CHANNEL_LINK,
    NOTION_PROJECT,
    NOTION_RELINK,
    SLACK_CHANNEL,
    generation,
    hubspot_links,
)
from sync.onboarding.templating import extra_properties
from sync.services import Services
from sync.store.cursors import read_cursor, save_cursor
from sync.store.ledger import Ledger
from sync.store.models import Onboarding

log = logging.getLogger(__name__)

PROJECT, CHANNEL = "project", "channel"
STEPS = {PROJECT: NOTION_PROJECT, CHANNEL: SLACK_CHANNEL}
CURSOR = "drift"
BATCH = 100  # onboardings per tick: at most 100 Notion reads, about 33 s of its 3 requests/s


@dataclass(frozen=True)
class DriftFinding:
    """Something the onboarding made that is gone: what, its id, and how it went."""

    deal_id: str
    kind: str  # project | channel
    external_id: str
    problem: str


def check_drift(
    services: Services, onboardings: Iterable[Onboarding] | None = None
) -> list[DriftFinding]:
    """Look at each onboarding's project and channel (default: every active onboarding)."""
    rows = list(onboardings) if onboardings is not None else _active(services)
    findings: list[DriftFinding] = []
    for onboarding in rows:
        found = _check(services, onboarding)
        _record(services, onboarding.id, found)
        findings += found
    return findings


def drift_tick(services: Services) -> list[DriftFinding]:
    """The periodic check: the next batch of active onboardings, round robin."""
    after = int(read_cursor(services.store, CURSOR) or 0)
    batch = _active(services, after=after, limit=BATCH) or _active(services, limit=BATCH)
    findings = check_drift(services, batch)
    if batch:
        save_cursor(services.store, CURSOR, str(batch[-1].id))
    return findings


def repair(services: Services, deal_id: str) -> list[str]:
    """Re-create what is gone without duplicating what exists; returns what was repaired."""
    onboarding = load_onboarding(services, deal_id)
    if onboarding is None:
        raise LookupError(f"deal {deal_id}: no onboarding")
    gone = {finding.kind for finding in check_drift(services, [onboarding])}
    run = OnboardingRun.of(services, onboarding)
    done: list[str] = []
    if PROJECT in gone:
        number = current_generation(services, onboarding.id, PROJECT)[0] + 1
        project_id = ensure_project(run, number)
        run.ledger.run(
            generation(NOTION_RELINK, number),
            "notion",
            lambda _recovering: _relink(services, onboarding, project_id) or project_id,
        )
        done.append(f"Notion project re-created: {run.facts.links.project_url}")
    if CHANNEL in gone:
        number = current_generation(services, onboarding.id, CHANNEL)[0] + 1
        ensure_slack(run, number)
        _refresh_channel_link(run, number)
        done.append(f"Slack channel re-created: #{run.facts.links.channel_name}")
    if done:
        _write_links(run)
        _record(services, onboarding.id, [])
    return done


def current_generation(services: Services, onboarding_id: int, kind: str) -> tuple[int, str | None]:
    """(generation, external id) of the newest done project or channel step; (0, None) if none."""
    return Ledger(services.store, onboarding_id).current(STEPS[kind])


def _active(services: Services, after: int = 0, limit: int | None = None) -> list[Onboarding]:
    with services.store.session() as session:
        query = select(Onboarding).where(Onboarding.status == "active", Onboarding.id > after)
        return list(session.scalars(query.order_by(Onboarding.id).limit(limit)))


def _check(services: Services, onboarding: Onboarding) -> list[DriftFinding]:
    found: list[DriftFinding] = []
    for kind, probe in ((PROJECT, _project_problem), (CHANNEL, _channel_problem)):
        _, external_id = current_generation(services, onboarding.id, kind)
        problem = probe(services, external_id) if external_id else None
        if problem and external_id:
            found.append(DriftFinding(onboarding.deal_id, kind, external_id, problem))
    return found


def _project_problem(services: Services, page_id: str) -> str | None:
    try:
        page = services.notion.retrieve_page(page_id)
    except NotFound:
        return "not found"
    return "in the trash" if page.get("in_trash") or page.get("archived") else None


def _channel_problem(services: Services, channel_id: str) -> str | None:
    return None if services.slack.channel_exists(channel_id) else "archived or deleted"


def _record(services: Services, onboarding_id: int, found: list[DriftFinding]) -> None:
    """Keep what is gone on the onboarding (None when all is there), and warn about it."""
    now = services.now().isoformat()
    drift = {f.kind: {"id": f.external_id, "problem": f.problem, "seen_at": now} for f in found}
    for finding in found:
        log.warning(
            "deal %s: its %s %s is %s (`flask onboarding repair %s` re-creates it)",
            finding.deal_id,
            finding.kind,
            finding.external_id,
            finding.problem,
            finding.deal_id,
        )
    with services.store.session() as session:
        row = session.get(Onboarding, onboarding_id)
        assert row is not None
        if not drift:
            row.drift = None
        elif not _same(row, found):
            row.drift = drift


def _same(row: Onboarding, found: list[DriftFinding]) -> bool:
    """The same things are gone as last time (keep the first time they were seen)."""
    known = row.drift or {}
    return {(f.kind, f.external_id) for f in found} == {(k, v["id"]) for k, v in known.items()}


def _relink(services: Services, onboarding: Onboarding, project_id: str) -> None:
    """Point every live task page at the new project (setting a relation is safe to repeat)."""
    relation = {notion_schema.PROJECT: property_value("relation", [project_id])}
    for task in onboarding.tasks:
        if task.notion_page_id and not task.archived:
            services.notion.update_page(task.notion_page_id, relation)


def _refresh_channel_link(run: OnboardingRun, number: int) -> None:
    """The project page's properties that show the channel link now show the new channel."""
    services = run.services
    extra = services.mappings.fields.notion.project
    specs = [spec for spec in extra if "onboarding.channel_url" in spec.value]
    _, project_id = current_generation(services, run.onboarding.id, PROJECT)
    if not specs or not project_id:
        return
    props = extra_properties(specs, run.context)
    run.ledger.run(
        generation(NOTION_CHANNEL_LINK, number),
        "notion",
        lambda _recovering: services.notion.update_page(project_id, props)["id"],
    )


def _write_links(run: OnboardingRun) -> None:
    """The deal's and company's links to the project and channel, once per new pair of links."""
    links = run.facts.links
    values = {"project_url": links.project_url, "channel_url": links.channel_url}
    digest = hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:12]
    run.ledger.run(
        hubspot_links(digest),
        "hubspot",
        lambda _recovering: write_fields(run.services, run.onboarding, values) or digest,
    )

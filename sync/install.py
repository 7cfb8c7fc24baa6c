"""`flask setup` and `flask doctor`: install what the app owns, then check every credential."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.errors import ConnectorError
from sync.intake.catchup import LAST_MODIFIED, stage_clocks
from sync.onboarding import notion_schema
from sync.services import Services

MANIFEST = Path(__file__).resolve().parent.parent / "manifest.json"
SLACK_SCOPES = (
    "channels:manage",
    "channels:read",
    "channels:history",
    "chat:write",
    "users:read",
    "users:read.email",
    "im:write",
    "im:history",
)


def load_manifest(path: Path = MANIFEST) -> dict[str, Any]:
    return json.loads(path.read_text())


def install_hubspot(services: Services, manifest: dict[str, Any]) -> Iterator[str]:
    """Create the property group and properties on deals and companies; existing ones stay."""
    group = manifest["propertyGroup"]
    for object_type, specs in manifest["properties"].items():
        created = services.hubspot.ensure_property_group(object_type, group["name"], group["label"])
        yield f"HubSpot {object_type}: group {group['name']} {'created' if created else 'exists'}"
        for spec in specs:
            created = services.hubspot.ensure_property(object_type, spec)
            yield f"HubSpot {object_type}: {spec['name']} {'created' if created else 'exists'}"


def install(services: Services, parent_page_id: str) -> dict[str, str]:
    """What `flask setup` does, for the demo and tests: HubSpot properties, Notion databases;
    returns the settings that name the new databases and their data sources."""
    for _line in install_hubspot(services, load_manifest()):
        pass
    return install_notion(services, parent_page_id)


def install_notion(services: Services, parent_page_id: str) -> dict[str, str]:
    """Create the projects and tasks databases under a page; returns the settings naming them
    (a database may gain more data sources later: the app keeps to the ones it made)."""
    notion, extra = services.notion, services.mappings.fields.notion
    projects_db, projects_ds = notion.create_database(
        parent_page_id, "Onboarding projects", notion_schema.projects_schema(extra.project)
    )
    tasks_db, tasks_ds = notion.create_database(
        parent_page_id, "Onboarding tasks", notion_schema.tasks_schema(projects_ds, extra.task)
    )
    return {
        "notion_projects_database_id": projects_db,
        "notion_tasks_database_id": tasks_db,
        "notion_projects_data_source_id": projects_ds,
        "notion_tasks_data_source_id": tasks_ds,
    }


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def doctor(services: Services, manifest: dict[str, Any]) -> list[Check]:
    """Every token, scope and id the app needs, each with what to fix when it is wrong."""
    checks = [
        _check("HubSpot token and scopes", lambda: _hubspot_scopes(services, manifest)),
        _check("HubSpot properties", lambda: _hubspot_properties(services, manifest)),
        _check("HubSpot catch-up", lambda: _catch_up_clock(services)),
        _check("Notion token", lambda: f"integration {services.notion.me().get('name', '?')}"),
        _check("Notion databases", lambda: _notion_databases(services)),
        _check("Slack token and scopes", lambda: _slack_scopes(services)),
        _check("Customer.io segment", lambda: _customerio(services)),
    ]
    secret = services.settings.hubspot_client_secret
    checks.append(
        Check(
            "HubSpot webhook secret",
            bool(secret and secret.get_secret_value()),
            "set" if secret else "HUBSPOT_CLIENT_SECRET is not set: webhooks will be refused",
        )
    )
    return checks


def _check(name: str, probe: Callable[[], str]) -> Check:
    try:
        return Check(name, True, probe())
    except (ConnectorError, ValueError) as exc:
        return Check(name, False, str(exc))


def _hubspot_scopes(services: Services, manifest: dict[str, Any]) -> str:
    granted = set(services.hubspot.token_scopes())
    missing = sorted(set(manifest["auth"]["requiredScopes"]) - granted)
    if missing:
        raise ValueError(f"the private app lacks scopes {', '.join(missing)}: add them in HubSpot")
    return f"{len(granted)} scopes granted"


def _hubspot_properties(services: Services, manifest: dict[str, Any]) -> str:
    for object_type, specs in manifest["properties"].items():
        missing = {s["name"] for s in specs} - services.hubspot.property_names(object_type)
        if missing:
            raise ValueError(f"{object_type} lack {', '.join(sorted(missing))}: run `flask setup`")
    return "all onboarding properties exist"


def _notion_databases(services: Services) -> str:
    settings = services.settings
    for label, database_id in (
        ("NOTION_PROJECTS_DATABASE_ID", settings.notion_projects_database_id),
        ("NOTION_TASKS_DATABASE_ID", settings.notion_tasks_database_id),
    ):
        if not database_id:
            raise ValueError(f"{label} is not set: run `flask setup` with NOTION_PARENT_PAGE_ID")
    for label, source_id in zip(("projects", "tasks"), services.notion_sources, strict=True):
        source = services.notion.data_source(source_id)
        missing = {notion_schema.TITLE, notion_schema.DEAL_ID} - set(source["properties"])
        if missing:
            raise ValueError(f"the {label} data source lacks {', '.join(sorted(missing))}")
    if not (settings.notion_projects_data_source_id and settings.notion_tasks_data_source_id):
        return (
            "projects and tasks databases reachable; set NOTION_PROJECTS_DATA_SOURCE_ID and"
            " NOTION_TASKS_DATA_SOURCE_ID so a data source added later is never taken for ours"
        )
    return "projects and tasks data sources reachable"


def _catch_up_clock(services: Services) -> str:
    """Which property the catch-up searches by (Free and Starter lack the stage-entry ones)."""
    clocks = stage_clocks(services)
    fallback = sorted(stage for stage, clock in clocks.items() if clock == LAST_MODIFIED)
    if fallback:
        return (
            f"no 'date entered' property for {', '.join(fallback)} (a Free or Starter account):"
            " missed won deals are found by stage, close date and last change instead"
        )
    return "missed won deals are found by the date they entered a start stage"


def _slack_scopes(services: Services) -> str:
    identity, scopes = services.slack.scopes()
    missing = [s for s in SLACK_SCOPES if s not in scopes]
    if missing:
        raise ValueError(f"the Slack app lacks {', '.join(missing)}: see slack-app-manifest.yaml")
    return f"bot {identity.get('user', '?')} in {identity.get('team', '?')}"


def _customerio(services: Services) -> str:
    segment = services.settings.customerio_segment_id
    if not segment:
        raise ValueError("CUSTOMERIO_SEGMENT_ID is not set: create a manual segment, use its id")
    region = services.customerio.region()
    return f"credentials valid (region {region.get('region', '?')}); segment {segment}"

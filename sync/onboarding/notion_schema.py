"""The Notion databases the app owns: their schema, and the page properties it writes."""

from __future__ import annotations

from typing import Any

from connectors.notion import property_value
from sync.mappings import NotionProperty
from sync.store.models import Onboarding, OnboardingTask

# Property names: `flask setup` creates them; the engine finds pages by the two id columns.
TITLE = "Name"
DEAL_ID = "Deal ID"
TASK_ID = "Task ID"
PROJECT = "Project"
STATUS = "Status"
DUE = "Due"
OWNER = "Owner"

TASK_STATUSES = ("Not started", "In progress", "Done")


def projects_schema(extra: list[NotionProperty]) -> dict[str, Any]:
    """The projects data source: what the engine needs, plus the admin's extra properties."""
    return _with_extra(
        {
            TITLE: {"title": {}},
            DEAL_ID: {"rich_text": {}},
            "Onboarding status": {"select": {}},
            "HubSpot deal": {"url": {}},
        },
        extra,
    )


def tasks_schema(projects_data_source_id: str, extra: list[NotionProperty]) -> dict[str, Any]:
    """The tasks data source, related to the projects one."""
    core = {
        TITLE: {"title": {}},
        TASK_ID: {"rich_text": {}},
        DEAL_ID: {"rich_text": {}},
        PROJECT: {"relation": {"data_source_id": projects_data_source_id, "single_property": {}}},
        STATUS: {"status": {}},
        OWNER: {"email": {}},
        "Owner role": {"select": {}},
        DUE: {"date": {}},
        "Flags": {"multi_select": {}},
        "HubSpot deal": {"url": {}},
    }
    return _with_extra(core, extra)


def _with_extra(core: dict[str, Any], extra: list[NotionProperty]) -> dict[str, Any]:
    extras = {spec.property: {spec.type: {}} for spec in extra if spec.property not in core}
    return {**core, **extras}


def task_key(deal_id: str, key: str) -> str:
    """The task's idempotency key in Notion: unique across every onboarding."""
    return f"{deal_id}:{key}"


def project_properties(onboarding: Onboarding, deal_url: str) -> dict[str, Any]:
    title = f"{onboarding.company_name or 'Deal ' + onboarding.deal_id} onboarding"
    return {
        TITLE: property_value("title", title),
        DEAL_ID: property_value("rich_text", onboarding.deal_id),
        "Onboarding status": property_value("select", "Active"),
        "HubSpot deal": property_value("url", deal_url),
    }


def task_properties(
    task: OnboardingTask, key: str, project_page_id: str, deal_url: str
) -> dict[str, Any]:
    return {
        TITLE: property_value("title", task.title),
        TASK_ID: property_value("rich_text", key),
        DEAL_ID: property_value("rich_text", key.split(":", 1)[0]),
        PROJECT: property_value("relation", [project_page_id]),
        STATUS: property_value("status", TASK_STATUSES[0]),
        OWNER: property_value("email", task.owner_email),
        "Owner role": property_value("select", task.owner_role),
        DUE: property_value("date", task.due_date),
        "Flags": property_value("multi_select", task.flags),
        "HubSpot deal": property_value("url", deal_url),
    }

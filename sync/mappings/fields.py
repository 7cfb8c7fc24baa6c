"""fields.yaml: what the engine reads from HubSpot and what it writes to each service."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from sync.mappings.base import HUBSPOT_NAME_PATTERN, Strict

NotionType = Literal["title", "rich_text", "select", "number", "url", "email", "date", "checkbox"]


class ReadFields(Strict):
    """HubSpot properties the engine fetches per object; templates and rules may use only these."""

    deal: list[str] = []
    company: list[str] = []
    contact: list[str] = []


class NotionProperty(Strict):
    """An extra Notion property filled from a template."""

    property: str = Field(min_length=1)
    type: NotionType
    value: str


class NotionFields(Strict):
    """Extra properties for the Notion project page and each task page."""

    project: list[NotionProperty] = []
    task: list[NotionProperty] = []


class CustomerIOFields(Strict):
    """Customer.io attributes on identify and the data of the onboarding_started event."""

    identify: dict[str, str]
    onboarding_started: dict[str, str] = {}


def _hubspot_name(field_name: str) -> Any:
    """A HubSpot property name defaulting to `onboarding_<field>`."""
    return Field(default=f"onboarding_{field_name}", pattern=HUBSPOT_NAME_PATTERN)


class HubSpotProperties(Strict):
    """Logical onboarding field to the HubSpot property that holds it."""

    status: str = _hubspot_name("status")
    segment: str = _hubspot_name("segment")
    progress: str = _hubspot_name("progress")
    next_task: str = _hubspot_name("next_task")
    next_task_due: str = _hubspot_name("next_task_due")
    overdue_count: str = _hubspot_name("overdue_count")
    project_url: str = _hubspot_name("project_url")
    channel_url: str = _hubspot_name("channel_url")
    started_at: str = _hubspot_name("started_at")
    health_score: str = _hubspot_name("health_score")


class HubSpotFields(Strict):
    """Where onboarding status is written back on the deal and the company."""

    deal: HubSpotProperties = HubSpotProperties()
    company: HubSpotProperties = HubSpotProperties()


class SlackFields(Strict):
    """Slack naming."""

    channel_name: str = "onboarding-{company.name}"


class FieldMappings(Strict):
    """fields.yaml: what to read from HubSpot and what to write to each service."""

    read: ReadFields
    notion: NotionFields = NotionFields()
    customerio: CustomerIOFields
    hubspot: HubSpotFields = HubSpotFields()
    slack: SlackFields = SlackFields()
    portal_url: str = "https://example.com/setup?company={company.id}"

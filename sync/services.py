"""The engine's collaborators, built once from settings and handed to every job."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from connectors.customerio import CustomerIOConnector
from connectors.errors import Permanent
from connectors.hubspot import HubSpotConnector
from connectors.notion import NotionConnector
from connectors.slack import SlackConnector
from settings import Settings
from sync.jobs.queue import JobQueue
from sync.mappings import Mappings
from sync.onboarding.calendar import WorkingCalendar
from sync.store.db import Store
from sync.store.models import utcnow


@dataclass
class Services:
    """Store, mappings and one connector per service; connectors are made on first use."""

    settings: Settings
    store: Store
    mappings: Mappings
    queue: JobQueue
    now: Callable[[], datetime] = utcnow
    _made: dict[str, object] = field(default_factory=dict)

    @property
    def hubspot(self) -> HubSpotConnector:
        return self._connector(
            "hubspot",
            lambda: HubSpotConnector(
                self._secret("hubspot_access_token"),
                self.settings.hubspot_api_base,
                rate_per_second=self.settings.hubspot_rate_per_second * self.settings.rate_scale,
                search_rate_per_second=4.0 * self.settings.rate_scale,  # the search API's own
            ),
        )

    @property
    def notion(self) -> NotionConnector:
        return self._connector(
            "notion",
            lambda: NotionConnector(
                self._secret("notion_token"),
                self.settings.notion_api_base,
                rate_per_second=self.settings.notion_rate_per_second * self.settings.rate_scale,
            ),
        )

    @property
    def slack(self) -> SlackConnector:
        return self._connector(
            "slack",
            lambda: SlackConnector(
                self._secret("slack_bot_token"),
                self.settings.slack_api_base,
                rate_scale=self.settings.rate_scale,
            ),
        )

    @property
    def customerio(self) -> CustomerIOConnector:
        return self._connector(
            "customerio",
            lambda: CustomerIOConnector(
                self._secret("customerio_site_id"),
                self._secret("customerio_api_key"),
                self.settings.customerio_track_api_base,
                rate_per_second=self.settings.customerio_rate_per_second * self.settings.rate_scale,
            ),
        )

    @cached_property
    def calendar(self) -> WorkingCalendar:
        """The one working calendar (reminders.yaml's working days and holidays), built once."""
        rules = self.mappings.reminders
        return WorkingCalendar.from_rules(
            rules.working_days,
            rules.holidays.country,
            rules.holidays.subdivision,
            rules.holidays.dates,
        )

    @property
    def notion_sources(self) -> tuple[str, str]:
        """The projects and tasks data sources: as named in the settings, else each database's
        only one (looked up once; a database with several must be named)."""
        settings = self.settings
        named = (settings.notion_projects_data_source_id, settings.notion_tasks_data_source_id)
        if named[0] and named[1]:
            return named[0], named[1]
        databases = (settings.notion_projects_database_id, settings.notion_tasks_database_id)
        if not databases[0] or not databases[1]:
            raise Permanent(
                "notion",
                "NOTION_PROJECTS_DATABASE_ID / NOTION_TASKS_DATABASE_ID not set"
                " (run `flask setup` to create the databases)",
            )
        return self._connector(
            "notion-sources",
            lambda: tuple(self.notion.sole_data_source_id(db) for db in databases),
        )

    def _connector(self, name: str, make: Callable[[], object]):  # type: ignore[no-untyped-def]
        if name not in self._made:
            self._made[name] = make()
        return self._made[name]

    def _secret(self, name: str) -> str:
        value = getattr(self.settings, name)
        if value is None:  # a blank variable is unset too (settings.Secret)
            service = name.split("_")[0]
            raise Permanent(service, f"{name.upper()} is not set")
        return value.get_secret_value()

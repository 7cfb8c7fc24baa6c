"""The app's configuration: read once from the environment, validated, passed in explicitly."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent


def _unset_when_blank(value: Any) -> Any:
    """`NAME=` (or spaces) means unset: an empty key would be a key anyone can sign with."""
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    return None if isinstance(text, str) and not text.strip() else value


# Every secret setting has this type, so "set" always means "has a usable value".
Secret = Annotated[SecretStr | None, BeforeValidator(_unset_when_blank)]


class Settings(BaseSettings):
    """Every knob of the app; each field is one environment variable of the same name."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    database_url: str = f"sqlite:///{ROOT / 'instance' / 'onboarding.db'}"
    mappings_dir: Path = ROOT / "mappings"
    timezone: str = "UTC"
    public_base_url: str | None = None

    hubspot_api_base: str = "https://api.hubapi.com"
    notion_api_base: str = "https://api.notion.com"
    slack_api_base: str = "https://slack.com/api/"
    customerio_track_api_base: str = "https://track.customer.io/api/v1"

    hubspot_access_token: Secret = None
    hubspot_client_secret: Secret = None
    notion_token: Secret = None
    notion_webhook_token: Secret = None
    slack_bot_token: Secret = None
    slack_signing_secret: Secret = None
    customerio_site_id: Secret = None
    customerio_api_key: Secret = None
    customerio_webhook_signing_key: Secret = None  # reporting webhooks' signing key
    activity_api_key: Secret = None  # Bearer key of POST /api/activity

    notion_parent_page_id: str | None = None
    notion_projects_database_id: str | None = None
    notion_tasks_database_id: str | None = None
    # The data sources the app writes to (a database can hold several since Notion's 2025-09-03
    # API); `flask setup` prints them. Unset: each database's only data source.
    notion_projects_data_source_id: str | None = None
    notion_tasks_data_source_id: str | None = None
    customerio_segment_id: str | None = None
    hubspot_portal_id: str | None = None
    slack_workspace_url: str = "https://slack.com"

    worker_interval_seconds: float = Field(default=1.0, gt=0)
    rate_scale: float = Field(default=1.0, gt=0)
    # Client-side limits, kept under each vendor's documented one (each connector says which).
    hubspot_rate_per_second: float = Field(default=15.0, gt=0)  # 190 per 10 s burst limit
    notion_rate_per_second: float = Field(default=3.0, gt=0)  # 3 requests/s average
    customerio_rate_per_second: float = Field(default=50.0, gt=0)  # 100/s fair use
    poll_interval_seconds: float = Field(default=60.0, gt=0)
    escalate_after_business_days: int = Field(default=2, ge=0)
    # A running job's lease, renewed every third of it: a job whose worker died is taken over
    # within this many seconds.
    job_lease_seconds: float = Field(default=20.0, gt=0)
    max_concurrent_jobs: int = Field(default=16, ge=1)
    # /health answers 503 when an event has waited this long to be routed, or a due job to run.
    health_max_wait_seconds: float = Field(default=600.0, gt=0)
    # A deal deletion ends its onboarding only once this long has passed with no merge event
    # naming it (HubSpot sends a merge as a deletion of the absorbed deal plus a merge event).
    merge_grace_seconds: float = Field(default=60.0, ge=0)
    trusted_proxies: int = Field(default=0, ge=0)
    webhook_max_age_seconds: int = 300
    # The largest request body read: HubSpot's biggest batch (100 events) is a few hundred KB.
    max_request_bytes: int = Field(default=1024 * 1024, gt=0)
    # A client that sends nothing for this long (a stalled upload, an idle keep-alive) is cut off.
    client_timeout_seconds: int = Field(default=30, ge=1)
    # Refuse HubSpot's v1/v2 signatures; off by default, as HubSpot's legacy apps send them.
    require_hubspot_v3_signatures: bool = False
    # The catch-up asks HubSpot for won deals whose webhook never came (HubSpot stops retrying
    # after about a day); each run looks back this much before the last one, for search lag.
    catchup_interval_minutes: float = Field(default=60.0, gt=0)
    catchup_overlap_minutes: float = Field(default=60.0, ge=0)
    # Each drift check reads the next 100 active onboardings' projects and channels.
    drift_interval_minutes: float = Field(default=10.0, gt=0)
    # How often the reminder pass runs: a reminder goes out at the first pass after send_at.
    reminder_interval_minutes: float = Field(default=15.0, gt=0)
    # How often activity, email engagement and tasks are turned into check-ins and health.
    signals_interval_minutes: float = Field(default=60.0, gt=0)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown timezone {value!r} (use an IANA name such as Europe/Bucharest)"
            ) from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

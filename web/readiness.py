"""What the HTTP edge refuses, or trusts, for want of a setting: said in the same words at
start-up, by `flask doctor`, and in each refused request."""

from __future__ import annotations

import logging

from flask import current_app
from werkzeug.exceptions import ServiceUnavailable

from settings import Settings

log = logging.getLogger(__name__)

# Each secret the edge checks requests with, and what is refused while it is unset.
GUARDED_BY = {
    "hubspot_client_secret": "HubSpot webhooks (POST /webhooks/hubspot)",
    "notion_webhook_token": "signed Notion webhook events (POST /webhooks/notion)",
    "customerio_webhook_signing_key": "Customer.io reporting webhooks (POST /webhooks/customerio)",
    "activity_api_key": "product activity reports (POST /api/activity)",
}


def missing_secret(setting: str) -> str:
    """The sentence for requests refused because ``setting`` is unset."""
    return f"{setting.upper()} is not set: {GUARDED_BY[setting]} are refused (503) until it is"


def required_secret(setting: str) -> str:
    """The secret's value; while it is unset, the request is refused with 503 naming it."""
    secret = getattr(current_app.extensions["settings"], setting)
    if secret is None:
        log.error(missing_secret(setting))
        raise ServiceUnavailable(missing_secret(setting))
    return secret.get_secret_value()


def edge_warnings(settings: Settings) -> list[str]:
    """Everything the edge will refuse or trust as configured; logged at start, shown by doctor."""
    warnings = [missing_secret(name) for name in GUARDED_BY if getattr(settings, name) is None]
    if not settings.public_base_url:
        warnings.append(
            "PUBLIC_BASE_URL is not set: the URL HubSpot signed is rebuilt from each request's "
            "Host header, which the client chooses; set it to the URL HubSpot calls"
        )
    return warnings

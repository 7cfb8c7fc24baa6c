"""POST /webhooks/hubspot: verify the signature, store the batch, answer. Nothing else."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Request, current_app, jsonify, request

from sync.activity import BadEvents, store_customerio_event
from sync.inbox import (
    MalformedBatch,
    keep_notion_verification,
    store_hubspot_batch,
    store_notion_event,
)
from web.signatures import (
    InvalidSignature,
    verify_customerio_signature,
    verify_hubspot_signature,
    verify_notion_signature,
)

bp = Blueprint("webhooks", __name__)
log = logging.getLogger(__name__)


def public_uri(req: Request, public_base_url: str | None) -> str:
    """The URI HubSpot called: behind a proxy, the public base plus the raw path and query."""
    raw = req.environ.get("RAW_URI") or req.environ.get("REQUEST_URI")
    if not raw:
        raw = quote(req.path)
        if req.query_string:
            raw += "?" + req.query_string.decode("latin-1")
    if public_base_url:
        return public_base_url.rstrip("/") + raw
    return f"{req.scheme}://{req.host}{raw}"


@bp.post("/webhooks/hubspot")
def hubspot() -> Any:
    settings = current_app.extensions["settings"]
    if settings.hubspot_client_secret is None:
        log.error("HUBSPOT_CLIENT_SECRET is not set: webhooks cannot be verified")
        return jsonify(error="webhook signing secret not configured"), 503
    body = request.get_data(cache=False)
    try:
        verify_hubspot_signature(
            client_secret=settings.hubspot_client_secret.get_secret_value(),
            method=request.method,
            uri=public_uri(request, settings.public_base_url),
            body=body,
            headers=request.headers,
            max_age=settings.webhook_max_age_seconds,
        )
    except InvalidSignature as exc:
        log.warning("refused a HubSpot webhook: %s", exc)
        return jsonify(error="invalid signature"), 401
    try:
        received = store_hubspot_batch(current_app.extensions["store"], body)
    except MalformedBatch as exc:
        return jsonify(error=str(exc)), 400
    worker = current_app.extensions.get("worker")
    if worker is not None and received.new:
        worker.wake()
    return jsonify(new=received.new, duplicates=received.duplicates, malformed=received.malformed)


@bp.post("/webhooks/notion")
def notion() -> Any:
    """Notion's integration webhooks: a fast path to the progress poll (the poll stays the net)."""
    settings = current_app.extensions["settings"]
    store = current_app.extensions["store"]
    body = request.get_data(cache=False)
    signature = request.headers.get("X-Notion-Signature")
    if signature is None and b'"verification_token"' in body:
        keep_notion_verification(store, body)  # the one-time handshake carries no signature
        return jsonify(received="verification"), 200
    if settings.notion_webhook_token is None:
        log.error("NOTION_WEBHOOK_TOKEN is not set: Notion webhooks cannot be verified")
        return jsonify(error="webhook verification token not configured"), 503
    try:
        verify_notion_signature(settings.notion_webhook_token.get_secret_value(), body, signature)
    except InvalidSignature as exc:
        log.warning("refused a Notion webhook: %s", exc)
        return jsonify(error="invalid signature"), 401
    try:
        received = store_notion_event(store, body)
    except MalformedBatch as exc:
        return jsonify(error=str(exc)), 400
    worker = current_app.extensions.get("worker")
    if worker is not None and received.new:
        worker.wake("progress")
    return jsonify(new=received.new, duplicates=received.duplicates)


@bp.post("/webhooks/customerio")
def customerio() -> Any:
    """Customer.io's email reporting webhooks (opened, bounced ...): signals for the health pass."""
    settings = current_app.extensions["settings"]
    if settings.customerio_webhook_signing_key is None:
        log.error("CUSTOMERIO_WEBHOOK_SIGNING_KEY is not set: webhooks cannot be verified")
        return jsonify(error="webhook signing key not configured"), 503
    body = request.get_data(cache=False)
    try:
        verify_customerio_signature(
            settings.customerio_webhook_signing_key.get_secret_value(),
            body,
            request.headers.get("X-CIO-Timestamp"),
            request.headers.get("X-CIO-Signature"),
            max_age=settings.webhook_max_age_seconds,
        )
    except InvalidSignature as exc:
        log.warning("refused a Customer.io webhook: %s", exc)
        return jsonify(error="invalid signature"), 401
    try:
        stored = store_customerio_event(current_app.extensions["store"], body)
    except BadEvents as exc:
        return jsonify(error=str(exc)), 400
    return jsonify(new=stored.new, duplicates=stored.duplicates)

"""Webhooks in (HubSpot, Notion, Customer.io): verify the signature, store, answer. Nothing else."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Request, current_app, jsonify, request
from werkzeug.exceptions import BadRequest, Unauthorized

from sync.intake.activity import BadEvents, store_customerio_event
from sync.intake.inbox import (
    MalformedBatch,
    keep_notion_verification,
    store_hubspot_batch,
    store_notion_event,
)
from web.notion_handshake import verification_token
from web.readiness import required_secret
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


def _intake(
    setting: str,
    verify: Callable[[str, bytes], None],
    store: Callable[[bytes], Any],
    wake: str | None = None,
) -> Any:
    """The one shape of every webhook: secret configured, signature checked, body stored,
    worker woken, answered. Nothing else happens in the request."""
    secret = required_secret(setting)
    body = request.get_data(cache=False)
    try:
        verify(secret, body)
    except InvalidSignature as exc:
        log.warning("refused a request to %s: %s", request.path, exc)
        raise Unauthorized(f"invalid signature: {exc}") from exc
    try:
        received = store(body)
    except (MalformedBatch, BadEvents) as exc:
        raise BadRequest(str(exc)) from exc
    worker = current_app.extensions.get("worker")
    if wake and worker is not None and received.new:
        worker.wake(wake)
    return jsonify(asdict(received))


@bp.post("/webhooks/hubspot")
def hubspot() -> Any:
    settings = current_app.extensions["settings"]

    def verify(secret: str, body: bytes) -> None:
        verify_hubspot_signature(
            client_secret=secret,
            method=request.method,
            uri=public_uri(request, settings.public_base_url),
            body=body,
            headers=request.headers,
            max_age=settings.webhook_max_age_seconds,
            require_v3=settings.require_hubspot_v3_signatures,
        )

    return _intake(
        "hubspot_client_secret", verify,
        lambda body: store_hubspot_batch(current_app.extensions["store"], body), wake="tick",
    )  # fmt: skip


@bp.post("/webhooks/notion")
def notion() -> Any:
    """Notion's integration webhooks: a fast path to the progress poll (the poll stays the net)."""
    store = current_app.extensions["store"]
    if "X-Notion-Signature" not in request.headers:  # only the one-time handshake is unsigned
        token = verification_token(request, current_app.extensions["settings"])
        keep_notion_verification(store, token)
        return jsonify(received="verification")
    return _intake(
        "notion_webhook_token",
        lambda token, body: verify_notion_signature(
            token, body, request.headers.get("X-Notion-Signature")
        ),
        lambda body: store_notion_event(store, body), wake="progress",
    )  # fmt: skip


@bp.post("/webhooks/customerio")
def customerio() -> Any:
    """Customer.io's email reporting webhooks (opened, bounced ...): signals for the health pass."""
    settings = current_app.extensions["settings"]
    return _intake(
        "customerio_webhook_signing_key",
        lambda key, body: verify_customerio_signature(
            key, body, request.headers.get("X-CIO-Timestamp"),
            request.headers.get("X-CIO-Signature"), max_age=settings.webhook_max_age_seconds,
        ),
        lambda body: store_customerio_event(current_app.extensions["store"], body),
    )  # fmt: skip

"""Notion's verification handshake: the one unsigned request the app accepts, so it is held to
its own small shape, and only until NOTION_WEBHOOK_TOKEN is set (Notion signs all else)."""

from __future__ import annotations

from flask import Request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, Unauthorized

from settings import Settings
from sync.intake.keeping import parse_json

MAX_BYTES = 4096  # Notion's handshake is {"verification_token": "secret_..."}: under 100 bytes
MAX_TOKEN_CHARS = 200
SHAPE = (
    "an unsigned request here must be Notion's verification: a JSON object whose "
    f"verification_token is a string of 1 to {MAX_TOKEN_CHARS} characters"
)


def verification_token(request: Request, settings: Settings) -> str:
    """The token of a well-formed handshake; else a 401, 413 or 400 saying what was wrong."""
    if settings.notion_webhook_token is not None:
        raise Unauthorized(
            "no X-Notion-Signature header: NOTION_WEBHOOK_TOKEN is set, so Notion's "
            "verification is over and only signed events are accepted"
        )
    body = request.stream.read(MAX_BYTES + 1)
    if len(body) > MAX_BYTES:
        raise RequestEntityTooLarge(f"an unsigned Notion request is at most {MAX_BYTES} bytes")
    try:
        payload = parse_json(body, ValueError)
    except ValueError as exc:
        raise BadRequest(SHAPE) from exc
    token = payload.get("verification_token") if isinstance(payload, dict) else None
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_CHARS:
        raise BadRequest(SHAPE)
    return token

"""POST /api/activity: the vendor's product reports logins and usage; kept, then answered."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from sync.intake.activity import MAX_EVENTS, BadEvents, store_activity

bp = Blueprint("api", __name__, url_prefix="/api")
log = logging.getLogger(__name__)


@bp.post("/activity")
def activity() -> Any:
    """Keep each valid event (up to 1000); 400 lists the refused ones, the valid ones stay kept."""
    key = current_app.extensions["settings"].activity_api_key
    if key is None or not key.get_secret_value():
        log.error("ACTIVITY_API_KEY is not set: activity cannot be authenticated")
        return jsonify(error="activity API key not configured"), 503
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), key.get_secret_value().encode()
    ):
        return jsonify(error="missing or wrong API key (Authorization: Bearer <key>)"), 401
    try:
        stored = store_activity(current_app.extensions["store"], request.get_data(cache=False))
    except BadEvents as exc:
        return jsonify(error=str(exc), limit=MAX_EVENTS), 400
    answer = {"accepted": stored.new, "duplicates": stored.duplicates}
    if stored.rejected:
        error = f"{len(stored.rejected)} event(s) refused; the others were kept"
        return jsonify(error=error, rejected=stored.rejected, **answer), 400
    return jsonify(**answer)

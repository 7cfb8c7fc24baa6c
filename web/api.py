"""POST /api/activity: the vendor's product reports logins and usage; kept, then answered."""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import Unauthorized

from sync.intake.activity import MAX_EVENTS, BadEvents, store_activity
from web.readiness import required_secret

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.post("/activity")
def activity() -> Any:
    """Keep each valid event (up to 1000); 400 lists the refused ones, the valid ones stay kept."""
    key = required_secret("activity_api_key")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), key.encode()):
        raise Unauthorized("missing or wrong API key (Authorization: Bearer <key>)")
    try:
        stored = store_activity(current_app.extensions["store"], request.get_data(cache=False))
    except BadEvents as exc:
        return jsonify(error=str(exc), limit=MAX_EVENTS), 400
    answer = {"accepted": stored.new, "duplicates": stored.duplicates}
    if stored.rejected:
        error = f"{len(stored.rejected)} event(s) refused; the others were kept"
        return jsonify(error=error, rejected=stored.rejected, **answer), 400
    return jsonify(**answer)

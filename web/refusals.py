"""Every refusal at the HTTP edge is a status and one plain sentence: ``{"error": "..."}``.

Routes raise werkzeug's HTTP exceptions with that sentence; werkzeug raises its own (413 over
MAX_REQUEST_BYTES, 404, 405); one handler answers them all alike, never with an HTML page.
"""

from __future__ import annotations

import json

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response


def answer_refusals_as_json(app: Flask) -> None:
    """Register the one handler of every HTTP error the app raises."""

    @app.errorhandler(HTTPException)
    def as_json(exc: HTTPException) -> Response:
        response = exc.get_response()  # keeps the status and headers such as Allow
        response.set_data(json.dumps({"error": exc.description}))
        response.content_type = "application/json"
        return response

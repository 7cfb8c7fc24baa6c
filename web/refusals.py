"""Every refusal at the HTTP edge is a status and one plain sentence: ``{"error": "..."}``.

Routes raise werkzeug's HTTP exceptions with that sentence; werkzeug raises its own (413 over
MAX_REQUEST_BYTES, 404, 405); one handler answers them all alike, never with an HTML page.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.wrappers import Response


def answer_refusals_as_json(app: Flask) -> None:
    """Register the one handler of every HTTP error the app raises."""

    @app.errorhandler(HTTPException)
    def as_json(exc: HTTPException) -> Response:
        response = exc.get_response()  # keeps the status and headers such as Allow
        response.set_data(json.dumps({"error": exc.description}))
        response.content_type = "application/json"
        return response


@contextmanager
def deep_json_refused() -> Iterator[None]:
    """JSON nested deeper than Python's stack (100,000 "[") makes json.loads raise
    RecursionError: a 400 here, not a 500. The parsers are sync/inbox.py's and
    sync/activity.py's; the web edge wraps each call into them until they refuse such bodies
    themselves, and parses its own JSON (Notion's handshake) inside it too."""
    try:
        yield
    except RecursionError as exc:
        raise BadRequest("the JSON body is nested too deeply") from exc

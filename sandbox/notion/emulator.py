"""The Notion emulator assembled from its concerns, with Notion's auth, errors and rate limit."""

from __future__ import annotations

import math
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.core import Clock, TokenBucketLimit, command
from sandbox.notion.inspection import Inspection
from sandbox.notion.routes import NotionRoutes

API_VERSION = "2025-09-03"
DEFAULT_TOKEN = "secret_sandbox"
RATE_PER_SECOND = 3.0
# Notion documents "an average of three requests per second, bursts allowed" without a burst
# size; we allow one second's worth (3), so a fourth request in a burst is refused.
BURST = 3.0

MISSING_VERSION = (
    "Notion-Version header failed validation: Notion-Version header should be defined, "
    "instead was `undefined`."
)
RATE_LIMITED = "You have been rate limited. Please try again in a few minutes."
# Injected failures by status. 529 service_overload is from the request-limits page
# (https://developers.notion.com/reference/request-limits): clients respect its Retry-After.
SERVER_CODES = {
    500: "internal_server_error",
    503: "service_unavailable",
    504: "gateway_timeout",
    529: "service_overload",
}


class NotionEmulator(NotionRoutes, Inspection):
    """Notion's public API as the onboarding app uses it, with an integration bot user.

    Each concern is a mixin over the shared ``RecordStore``, and subclasses the concerns it
    calls: routes, databases and schemas, pages and their values and blocks, queries, actors
    (sandbox commands and webhooks), and the read-only views tests and the state page use.
    """

    name = "notion"

    def __init__(self, clock: Clock | None = None, rate_scale: float = 1.0, seed: int = 0) -> None:
        self.seed = seed
        super().__init__(clock=clock, rate_scale=rate_scale, seed=seed)

    def reset_state(self) -> None:
        self.tokens = {DEFAULT_TOKEN}
        self.limiter = TokenBucketLimit(RATE_PER_SECOND * self.rate_scale, BURST * self.rate_scale)
        self._reset_records()
        self._reset_blocks()
        self._reset_query_cache()
        self._reset_webhooks()

    def _serve(self, request: Request) -> Response:
        response = super()._serve(request)
        if request.method != "GET" and not request.path.endswith(("/query", "/search")):
            self._changed()
        return response

    @command
    def add_token(self, token: str) -> None:
        """Accept another integration token (each one gets its own rate limit)."""
        with self.lock:
            self.tokens.add(token)

    # ----- the base contract -----------------------------------------------------------
    def authenticate(self, request: Request) -> Response | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or header[len("Bearer ") :] not in self.tokens:
            return self.error(401, "unauthorized", "API token is invalid.")
        version = request.headers.get("Notion-Version")
        if version is None:
            return self.error(400, "missing_version", MISSING_VERSION)
        # Older versions have no data source endpoints (seen as 400 invalid_request_url with
        # 2022-06-28, makenotion/notion-mcp-server#178); other routes answer as in 2025-09-03.
        if version != API_VERSION and request.path.startswith("/v1/data_sources"):
            return self.error(400, "invalid_request_url", "Invalid request URL.")
        return None

    def error(self, status: int, code: str, message: str) -> Response:
        """Notion's error body; the base class's generic codes become Notion's."""
        if code == "not_found":  # no such route
            status, code, message = 400, "invalid_request_url", "Invalid request URL."
        elif code == "injected_error":
            code = SERVER_CODES.get(status, "internal_server_error")
        elif code == "bad_request":
            code = "validation_error"
        payload = {"object": "error", "status": status, "code": code, "message": message}
        return self.json({**payload, "request_id": self.request_id()}, status)

    def rate_limited(self, retry_after: float, reason: str) -> Response:
        response = self.error(429, "rate_limited", RATE_LIMITED)
        response.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
        return response

    def limit_for(self, request: Request, endpoint: str) -> tuple[Any, str]:
        return self.limiter, request.headers.get("Authorization", "")

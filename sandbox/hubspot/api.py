"""What every HubSpot handler shares: ApiError, its translation, and reading the request."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response


class ApiError(ValueError):
    """A HubSpot error answer raised from deep inside a handler or command."""

    def __init__(self, status: int, category: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.category, self.message, self.extra = status, category, message, extra


def api_handler(func: Callable[..., Response]) -> Callable[..., Response]:
    """Turn an ApiError raised by a handler into HubSpot's error body."""

    @functools.wraps(func)
    def handler(self: Any, request: Request, **args: Any) -> Response:
        try:
            return func(self, request, **args)
        except ApiError as exc:
            return self.error(exc.status, exc.category, exc.message, **exc.extra)

    return handler


def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; 400 as HubSpot words it when the body is not one."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ApiError(400, "VALIDATION_ERROR", "Invalid input JSON on line 1, column 1")
    return payload


def list_param(request: Request, name: str) -> list[str] | None:
    """A list query parameter sent as repeated keys (the SDK) or a comma list (the docs)."""
    if name not in request.args:
        return None
    return [v.strip() for raw in request.args.getlist(name) for v in raw.split(",") if v.strip()]

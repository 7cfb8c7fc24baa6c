"""Private-app tokens: which token may call which endpoint, and the token-info endpoint."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.core import command
from sandbox.hubspot.account import ALIASES, APP_ID, DEFAULT_TOKEN, HUB_ID, TOKEN_USER_ID
from sandbox.hubspot.api import ApiError, api_handler, json_body

# Tasks are guarded by the contacts scopes: HubSpot's tasks guide lists
# crm.objects.contacts.read / crm.objects.contacts.write as their scope requirements.
SCOPE_OBJECT = {"contacts": "contacts", "companies": "companies", "deals": "deals",
                "tasks": "contacts"}  # fmt: skip
ALL_SCOPES = sorted(
    {f"crm.{kind}.{o}.{rw}" for o in SCOPE_OBJECT.values() for kind in ("objects", "schemas")
     for rw in ("read", "write")} | {"crm.objects.owners.read"}
)  # fmt: skip

# Which scope each route needs: (kind, access) where kind "objects"/"schemas" follows the type.
ENDPOINT_SCOPES = {
    "get_object": ("objects", "read"), "batch_read": ("objects", "read"),
    "search": ("objects", "read"), "create_object": ("objects", "write"),
    "update_object": ("objects", "write"), "batch_update": ("objects", "write"),
    "list_pipelines": ("objects", "read"), "get_pipeline": ("objects", "read"),
    "list_properties": ("schemas", "read"), "get_property": ("schemas", "read"),
    "create_property": ("schemas", "write"), "create_group": ("schemas", "write"),
}  # fmt: skip

AUTH_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you "
    "can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header, or None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def required_scope(endpoint: str, args: dict[str, str]) -> str | None:
    """The scope a call needs; None when it needs none or its object type is unknown."""
    if endpoint in ("list_owners", "get_owner"):
        return "crm.objects.owners.read"
    object_type = ALIASES.get(args.get("object_type", ""))
    if endpoint not in ENDPOINT_SCOPES or object_type is None:
        return None  # the handler answers the unknown object type
    kind, access = ENDPOINT_SCOPES[endpoint]
    return f"crm.{kind}.{SCOPE_OBJECT[object_type]}.{access}"


class TokenAccess:
    """Refuses calls without a known token (401) or without the endpoint's scope (403)."""

    _tokens: dict[str, list[str]]

    def _reset_tokens(self) -> None:
        self._tokens = {DEFAULT_TOKEN: list(ALL_SCOPES)}

    def authenticate(self, request: Request) -> Response | None:
        endpoint, args = self._url_map.bind_to_environ(request.environ).match()
        if endpoint == "token_info":
            return None  # takes the token in its body and needs no scope
        token = bearer_token(request)
        with self.lock:
            scopes = self._tokens.get(token or "")
        if scopes is None:
            return self.error(401, "INVALID_AUTHENTICATION", AUTH_MESSAGE)
        needed = required_scope(endpoint, args)
        if needed is None or needed in scopes:
            return None
        return self.error(
            403,
            "MISSING_SCOPES",
            "This app hasn't been granted all required scopes to make this call. Read more "
            "about required scopes here: https://developers.hubspot.com/scopes.",
            errors=[
                {
                    "message": "One or more of the following scopes are required.",
                    "context": {"requiredGranularScopes": [needed]},
                }
            ],
            links={"scopes": "https://developers.hubspot.com/scopes"},
        )

    @api_handler
    def token_info(self, request: Request) -> Response:
        """Scopes of a private-app token, for ``flask doctor``.

        Path and shape are not on a HubSpot page we could read; several independent clients
        (found with the search tool) POST ``{"tokenKey"}`` here and read userId, hubId, appId,
        scopes, and say it needs no scope: UNCONFIRMED but consistent.
        """
        token = str(json_body(request).get("tokenKey", ""))
        with self.lock:
            scopes = self._tokens.get(token)
        if scopes is None:
            raise ApiError(401, "INVALID_AUTHENTICATION", AUTH_MESSAGE)
        return self.json(
            {"userId": TOKEN_USER_ID, "hubId": HUB_ID, "appId": APP_ID, "scopes": sorted(scopes)}
        )

    @command
    def add_token(self, token: str, scopes: list[str]) -> dict[str, Any]:
        """Accept another token, with only these scopes."""
        with self.lock:
            self._tokens[token] = list(scopes)
        return {"token": token, "scopes": sorted(scopes)}

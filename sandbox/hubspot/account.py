"""The emulated account's fixed identities and the CRM object types it knows by name or id."""

from __future__ import annotations

from sandbox.hubspot.api import ApiError

DEFAULT_TOKEN = "pat-sandbox"
HUB_ID = 12345678
APP_ID = 3456789
TOKEN_USER_ID = 7654321

OBJECT_TYPE_IDS = {"contacts": "0-1", "companies": "0-2", "deals": "0-3", "tasks": "0-27"}
SINGULAR = {"contacts": "contact", "companies": "company", "deals": "deal", "tasks": "task"}
ALIASES = {
    **{t: t for t in OBJECT_TYPE_IDS},
    **{i: t for t, i in OBJECT_TYPE_IDS.items()},
    **{s: t for t, s in SINGULAR.items()},
}


def canonical_type(name: str) -> str:
    """The plural object type a path names by plural, singular or type id; 400 when unknown."""
    object_type = ALIASES.get(name)
    if object_type is None:
        raise ApiError(400, "VALIDATION_ERROR", f"Unable to infer object type from: {name}")
    return object_type

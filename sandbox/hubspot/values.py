"""Property values: HubSpot's text form of them, and their validation with its error shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sandbox.core import iso_millis
from sandbox.hubspot.account import HUB_ID
from sandbox.hubspot.api import ApiError


def parse_moment(value: str) -> datetime | None:
    """An ISO date/datetime or an epoch-ms string as an aware datetime; None when neither."""
    value = value.strip()
    try:
        if value.lstrip("-").isdigit():
            return datetime.fromtimestamp(int(value) / 1000, UTC)
        moment = datetime.fromisoformat(value)
    except (ValueError, OverflowError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, HubSpot's number form of a moment."""
    return int(moment.timestamp() * 1000)


def as_text(value: Any) -> str:
    """HubSpot stores every property value as a string (booleans as true/false)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def validation_error(problems: list[tuple[str, str, str]]) -> ApiError:
    """HubSpot's 400 for bad property values: one message listing them, one error each."""
    listed = [
        {"isValid": False, "message": m, "error": c, "name": n, "localizedErrorMessage": m,
         "portalId": HUB_ID}
        for n, c, m in problems
    ]  # fmt: skip
    return ApiError(
        400,
        "VALIDATION_ERROR",
        f"Property values were not valid: {json.dumps(listed)}",
        context={"propertyName": [n for n, _, _ in problems]},
        errors=[
            {"message": m, "code": c, "in": n, "context": {"propertyName": [n]}}
            for n, c, m in problems
        ],
    )


class PropertyValues:
    """Checks and normalises property writes against the account's definitions."""

    def _check_value(self, object_type: str, name: str, raw: Any) -> tuple[str, str | None]:
        """(stored value, error code or None) for one property write."""
        definition = self._properties[object_type].get(name)
        if definition is None:
            return "", "PROPERTY_DOESNT_EXIST"
        if definition["modificationMetadata"]["readOnlyValue"]:
            return "", "READ_ONLY_VALUE"
        value = as_text(raw)
        if value == "":
            return value, None  # an empty value clears the property
        kind = definition["type"]
        if kind == "number":
            try:
                float(value)
            except ValueError:
                return value, "INVALID_FLOAT"
        elif kind in ("datetime", "date"):
            moment = parse_moment(value)
            if moment is None:
                return value, "INVALID_DATE"
            value = iso_millis(moment) if kind == "datetime" else moment.date().isoformat()
        elif kind in ("enumeration", "bool"):
            value = value.lower() if kind == "bool" else value
            allowed = {o["value"] for o in self._options(object_type, definition)}
            chosen = value.split(";") if definition["fieldType"] == "checkbox" else [value]
            if not set(chosen) <= allowed:
                return value, "INVALID_OPTION"
        return value, None

    def _clean(self, object_type: str, properties: dict[str, Any]) -> dict[str, str]:
        """Validated, normalised property values; 400 VALIDATION_ERROR naming each bad one."""
        cleaned: dict[str, str] = {}
        problems: list[tuple[str, str, str]] = []
        for name, raw in (properties or {}).items():
            value, code = self._check_value(object_type, name, raw)
            if code is None:
                cleaned[name] = value
            else:
                problems.append((name, code, self._problem_message(object_type, name, code, raw)))
        if problems:
            raise validation_error(problems)
        return cleaned

    def _problem_message(self, object_type: str, name: str, code: str, raw: Any) -> str:
        if code == "PROPERTY_DOESNT_EXIST":
            return f'Property "{name}" does not exist'
        if code == "READ_ONLY_VALUE":
            return f'"{name}" is a read only property; its value cannot be set.'
        if code == "INVALID_OPTION":
            definition = self._properties[object_type][name]
            allowed = [o["value"] for o in self._options(object_type, definition)]
            return f"{raw} was not one of the allowed options: [{', '.join(allowed)}]"
        return f"{raw} is not a valid value for {name} ({code})"

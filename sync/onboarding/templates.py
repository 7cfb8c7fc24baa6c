"""Placeholders in admin-written texts (`{company.name}`, `{contact.hs_language|en}`), kept tiny."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# `{root.key}` or `{root.key|fallback}`; a bare `{word}` also matches so the loader can reject it.
PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*(?:\.\w+)*)(?:\|([^{}]*))?\}")


def render(template: str, context: Mapping[str, Any]) -> str:
    """Fill each placeholder from nested mappings; a missing or empty value gives its fallback."""

    def fill(match: re.Match[str]) -> str:
        value = _lookup(context, match.group(1).split("."))
        if value is None or value == "":
            return match.group(2) or ""
        return str(value)

    return PLACEHOLDER.sub(fill, template)


def placeholders(template: str) -> list[str]:
    """The dotted names a template uses, in order, so the loader can check them before any deal."""
    return [match.group(1) for match in PLACEHOLDER.finditer(template)]


def _lookup(context: Mapping[str, Any], parts: list[str]) -> Any:
    """Walk `a.b.c` through nested mappings; anything absent on the way is None."""
    value: Any = context
    for part in parts:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value

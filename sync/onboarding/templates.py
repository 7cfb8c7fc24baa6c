"""Placeholders in admin-written texts (`{company.name}`, `{contact.hs_language|en}`), kept tiny."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

# `{root.key}` or `{root.key|fallback}`; a bare `{word}` also matches so the loader can reject it.
PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*(?:\.\w+)*)(?:\|([^{}]*))?\}")


def render(
    template: str, context: Mapping[str, Any], escape: Callable[[str], str] | None = None
) -> str:
    """Fill each placeholder from nested mappings; a missing or empty value gives its fallback.

    ``escape`` applies to the filled-in values only (they come from outside: a CRM's company
    name, a contact's email), never to the admin's template or fallback.
    """

    def fill(match: re.Match[str]) -> str:
        value = _lookup(context, match.group(1).split("."))
        if value is None or value == "":
            return match.group(2) or ""
        return escape(str(value)) if escape else str(value)

    return PLACEHOLDER.sub(fill, template)


def slack_escape(text: str) -> str:
    """Slack mrkdwn's three control characters, so a value from outside cannot ping a channel
    (``<!channel>``), mention someone or plant a link under the bot's name."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_for_slack(template: str, context: Mapping[str, Any]) -> str:
    """Every Slack text made from a template goes through here: values escaped, markup kept."""
    return render(template, context, escape=slack_escape)


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

"""Rich text as Notion returns it, and the length limits Notion puts on strings and arrays."""

from __future__ import annotations

from typing import Any

from sandbox.notion.errors import UNDEFINED, refused, too_long

MAX_TEXT = 2000
MAX_URL = 2000
MAX_EQUATION = 1000
MAX_EMAIL = 200
MAX_ITEMS = 100  # rich text items, multi_select options, relation pages, people, blocks per call
ANNOTATIONS = {
    "bold": False,
    "italic": False,
    "strikethrough": False,
    "underline": False,
    "code": False,
    "color": "default",
}


def bounded_list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise refused(f"{path} should be an array", value)
    if len(value) > MAX_ITEMS:
        raise too_long(f"{path}.length", MAX_ITEMS, len(value))
    return value


def bounded_text(value: Any, path: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise refused(f"{path} should be a string or `null`", value)
    if len(value) > limit:
        raise too_long(f"{path}.length", limit, len(value))
    return value


def rich_text(items: Any, path: str) -> list[dict[str, Any]]:
    """Rich text as Notion returns it: annotations, plain_text and href filled in."""
    return [
        _rich_text_item(item, f"{path}[{i}]") for i, item in enumerate(bounded_list(items, path))
    ]


def _rich_text_item(item: Any, path: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise refused(f"{path} should be an object", item)
    kind = item.get("type") or ("equation" if "equation" in item else "text")
    annotations = {**ANNOTATIONS, **(item.get("annotations") or {})}
    if kind == "equation":
        expression = bounded_text(
            (item.get("equation") or {}).get("expression"),
            f"{path}.equation.expression",
            MAX_EQUATION,
        )
        return {
            "type": "equation",
            "equation": {"expression": expression or ""},
            "annotations": annotations,
            "plain_text": expression or "",
            "href": None,
        }
    if kind != "text":
        raise refused(f"{path}.type should be `text` or `equation` in the sandbox", kind)
    text = item.get("text") or {}
    content = bounded_text(text.get("content"), f"{path}.text.content", MAX_TEXT)
    if content is None:
        raise refused(f"{path}.text.content should be defined", UNDEFINED)
    link = text.get("link")
    href = bounded_text(
        link.get("url") if isinstance(link, dict) else None, f"{path}.text.link.url", MAX_URL
    )
    return {
        "type": "text",
        "text": {"content": content, "link": {"url": href} if href else None},
        "annotations": annotations,
        "plain_text": content,
        "href": href,
    }


def plain_text(rich: list[dict[str, Any]]) -> str:
    return "".join(item["plain_text"] for item in rich)

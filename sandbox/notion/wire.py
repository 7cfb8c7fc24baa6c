"""How requests and answers look on the wire: bodies, ids, timestamps and cursor-paged lists."""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request

from sandbox.core import iso_millis
from sandbox.notion.errors import NotionError, invalid, refused, too_long

MAX_PAGE_SIZE = 100


def minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def iso(moment: datetime) -> str:
    """Notion's timestamp: rounded DOWN to the minute (reference: minute-rounded times)."""
    return iso_millis(minute(moment))


def parse_moment(raw: Any, path: str) -> tuple[datetime, bool]:
    """An ISO 8601 date or date-time as UTC, and whether it was a date alone."""
    if not isinstance(raw, str):
        raise refused(f"{path} should be an ISO 8601 date string", raw)
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise refused(f"{path} should be a valid ISO 8601 date string", raw) from exc
    if moment.tzinfo is None:  # "If no timezone is provided, then the timezone defaults to UTC."
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC), len(raw) == 10


def normal_id(raw: Any, path: str) -> str:
    """A UUID with dashes, from an id given with or without them."""
    text = raw.replace("-", "").lower() if isinstance(raw, str) else ""
    if not re.fullmatch(r"[0-9a-f]{32}", text):
        raise invalid(f"{path} should be a valid uuid, instead was `{json.dumps(raw)}`.")
    return str(uuid.UUID(text))


def read_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; an empty body reads as ``{}``."""
    raw = request.get_data(cache=True)
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise NotionError(400, "invalid_json", "Error parsing JSON body.") from exc
    if not isinstance(body, dict):
        raise refused("body should be an object", body)
    return body


def trash_flag(body: dict[str, Any]) -> bool | None:
    """``in_trash``, or its older synonym ``archived``; None when neither is given."""
    flag = body.get("in_trash", body.get("archived"))
    if flag is not None and not isinstance(flag, bool):
        raise refused("body.in_trash should be a boolean", flag)
    return flag


def page_size(raw: Any, path: str) -> int:
    if raw is None:
        return MAX_PAGE_SIZE
    try:
        size = int(raw)
    except (TypeError, ValueError) as exc:
        raise refused(f"{path} should be a number") from exc
    if size > MAX_PAGE_SIZE:
        raise too_long(path, MAX_PAGE_SIZE, size)
    if size < 1:
        raise refused(f"{path} should be ≥ `1`", size)
    return size


def paginate(
    items: list[Any], ident: Callable[[Any], str], cursor: Any, size: int
) -> tuple[list[Any], str | None]:
    """One page of ``items`` from ``cursor`` (the id of its first item) and the next cursor."""
    start = 0
    if cursor is not None:
        ids = [ident(item) for item in items]
        if cursor not in ids:
            raise refused("body.start_cursor should be a cursor from an earlier response", cursor)
        start = ids.index(cursor)
    end = start + size
    return items[start:end], (ident(items[end]) if end < len(items) else None)


def body_page(body: dict[str, Any], items: list[Any]) -> tuple[list[Any], str | None]:
    """One page of records for a POST endpoint, which takes its paging in the body."""
    size = page_size(body.get("page_size"), "body.page_size")
    return paginate(items, lambda record: record.id, body.get("start_cursor"), size)


def list_object(
    results: list[dict[str, Any]], next_cursor: str | None, kind: str
) -> dict[str, Any]:
    """Notion's paginated list: results, the next cursor and what kind of objects they are."""
    return {
        "object": "list",
        "results": results,
        "next_cursor": next_cursor,
        "has_more": next_cursor is not None,
        "type": kind,
        kind: {},
    }


def query_list(args: Mapping[str, str], items: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    """One page of JSON objects for a GET endpoint, which takes its paging in the query string."""
    size = page_size(args.get("page_size"), "query.page_size")
    chunk, cursor = paginate(items, lambda item: item["id"], args.get("start_cursor"), size)
    return list_object(copy.deepcopy(chunk), cursor, kind)

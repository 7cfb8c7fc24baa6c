"""Emulator of the Notion API, version 2025-09-03: databases, data sources, pages and queries.

Behaves like Notion where the app depends on it: databases are containers of data sources,
pages carry typed property values refused with Notion's ``validation_error`` messages,
``created_time``/``last_edited_time`` are rounded down to the minute, data source queries take
filters, sorts and opaque cursors, and each integration token gets 3 requests a second.
"""

from __future__ import annotations

import copy
import functools
import itertools
import json
import math
import random
import re
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox.core import Clock, Emulator, TokenBucketLimit, command, iso_millis
from sandbox.notion_webhooks import NotionWebhookSender

API_VERSION = "2025-09-03"
DEFAULT_TOKEN = "secret_sandbox"
RATE_PER_SECOND = 3.0
# Notion documents "an average of three requests per second, bursts allowed" without a burst
# size; we allow one second's worth (3), so a fourth request in a burst is refused.
BURST = 3.0
MAX_PAGE_SIZE = 100
MAX_TEXT = 2000
MAX_URL = 2000
MAX_EQUATION = 1000
MAX_EMAIL = 200
MAX_ITEMS = 100  # rich text items, multi_select options, relation pages, people, blocks per call
MAX_BLOCK_DEPTH = 2
# "Nesting is supported up to two levels deep" (filter docs): and -> or -> and is the deepest
# legal shape, counting the outer compound as level 0 (UNCONFIRMED reading; deeper gets 400).
MAX_FILTER_NESTING = 2

MISSING_VERSION = (
    "Notion-Version header failed validation: Notion-Version header should be defined, "
    "instead was `undefined`."
)
RATE_LIMITED = "You have been rate limited. Please try again in a few minutes."
UNDEFINED = object()  # what a missing field shows as in Notion's messages
SERVER_CODES = {500: "internal_server_error", 503: "service_unavailable", 504: "gateway_timeout"}

PROPERTY_TYPES = (
    "title",
    "rich_text",
    "number",
    "select",
    "multi_select",
    "status",
    "date",
    "checkbox",
    "url",
    "email",
    "people",
    "relation",
    "created_time",
    "last_edited_time",
)
READ_ONLY = {"created_time", "last_edited_time"}
LIST_TYPES = {"title", "rich_text", "multi_select", "people", "relation"}
ANNOTATIONS = {
    "bold": False,
    "italic": False,
    "strikethrough": False,
    "underline": False,
    "code": False,
    "color": "default",
}
# Default status options and groups of a new status property. The API cannot set status
# options on create (UNCONFIRMED), so given options are ignored and these are used.
STATUS_OPTIONS = (
    ("Not started", "default", "To-do", "gray"),
    ("In progress", "blue", "In progress", "blue"),
    ("Done", "green", "Complete", "green"),
)
# A page whose parent is a page or the workspace has only a title.
PAGE_SCHEMA = {"title": {"id": "title", "name": "title", "type": "title", "title": {}}}


class NotionError(ValueError):
    """A refusal that Notion answers with its error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _invalid(message: str) -> NotionError:
    return NotionError(400, "validation_error", message)


def _refused(problem: str, *actual: Any) -> NotionError:
    """Notion's schema wording: ``body failed validation: <problem>, instead was `<actual>`.``"""
    message = f"body failed validation: {problem}"
    if actual:
        shown = "undefined" if actual[0] is UNDEFINED else json.dumps(actual[0])
        message += f", instead was `{shown}`"
    return _invalid(message + ".")


def _too_long(path: str, limit: int, actual: int) -> NotionError:
    return _refused(f"{path} should be ≤ `{limit}`", actual)


def _not_found(kind: str, object_id: str) -> NotionError:
    return NotionError(
        404,
        "object_not_found",
        f"Could not find {kind} with ID: {object_id}. "
        "Make sure the relevant pages and databases are shared with your integration.",
    )


def _endpoint(handler: Callable[..., dict[str, Any]]) -> Callable[..., Response]:
    """Run a handler under the state lock; answer its payload, or Notion's error body."""

    @functools.wraps(handler)
    def run(self: NotionEmulator, request: Request, **args: Any) -> Response:
        try:
            with self.lock:
                payload = handler(self, request, **args)
        except NotionError as exc:
            return self.error(exc.status, exc.code, exc.message)
        return self.json({**payload, "request_id": self.request_id()})

    return run


# ----- records -----------------------------------------------------------------------------
@dataclass(kw_only=True)
class _Record:
    """What pages, databases and data sources share: identity, exact times, authors, trash."""

    id: str
    created: datetime  # exact; only ever exposed rounded down to the minute
    edited: datetime
    created_by: str
    edited_by: str
    in_trash: bool = False

    def touch(self, moment: datetime, user_id: str) -> None:
        self.edited = moment
        self.edited_by = user_id


@dataclass(kw_only=True)
class _Page(_Record):
    parent: dict[str, Any]
    values: dict[str, Any]  # property id -> the type's value, as Notion returns it
    seq: int


@dataclass(kw_only=True)
class _DataSource(_Record):
    database_id: str
    title: list[dict[str, Any]]
    properties: dict[str, dict[str, Any]]  # property name -> schema object


@dataclass(kw_only=True)
class _Database(_Record):
    parent: dict[str, Any]
    title: list[dict[str, Any]]
    description: list[dict[str, Any]] = field(default_factory=list)
    is_inline: bool = False
    is_locked: bool = False
    source_ids: list[str] = field(default_factory=list)


# ----- small pure helpers ------------------------------------------------------------------
def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _iso(moment: datetime) -> str:
    """Notion's timestamp: rounded DOWN to the minute (reference: minute-rounded times)."""
    return iso_millis(_minute(moment))


def _normal_id(raw: Any, path: str) -> str:
    """A UUID with dashes, from an id given with or without them."""
    text = raw.replace("-", "").lower() if isinstance(raw, str) else ""
    if not re.fullmatch(r"[0-9a-f]{32}", text):
        raise _invalid(f"{path} should be a valid uuid, instead was `{json.dumps(raw)}`.")
    return str(uuid.UUID(text))


def _body(request: Request) -> dict[str, Any]:
    raw = request.get_data(cache=True)
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise NotionError(400, "invalid_json", "Error parsing JSON body.") from exc
    if not isinstance(body, dict):
        raise _refused("body should be an object", body)
    return body


def _trash_flag(body: dict[str, Any]) -> bool | None:
    """``in_trash``, or its older synonym ``archived``; None when neither is given."""
    flag = body.get("in_trash", body.get("archived"))
    if flag is not None and not isinstance(flag, bool):
        raise _refused("body.in_trash should be a boolean", flag)
    return flag


def _page_size(raw: Any, path: str) -> int:
    if raw is None:
        return MAX_PAGE_SIZE
    try:
        size = int(raw)
    except (TypeError, ValueError) as exc:
        raise _refused(f"{path} should be a number") from exc
    if size > MAX_PAGE_SIZE:
        raise _too_long(path, MAX_PAGE_SIZE, size)
    if size < 1:
        raise _refused(f"{path} should be ≥ `1`", size)
    return size


def _paginate(
    items: list[Any], ident: Callable[[Any], str], cursor: Any, size: int
) -> tuple[list[Any], str | None]:
    """One page of ``items`` from ``cursor`` (the id of its first item) and the next cursor."""
    start = 0
    if cursor is not None:
        ids = [ident(item) for item in items]
        if cursor not in ids:
            raise _refused("body.start_cursor should be a cursor from an earlier response", cursor)
        start = ids.index(cursor)
    end = start + size
    return items[start:end], (ident(items[end]) if end < len(items) else None)


def _list(results: list[dict[str, Any]], next_cursor: str | None, kind: str) -> dict[str, Any]:
    return {
        "object": "list",
        "results": results,
        "next_cursor": next_cursor,
        "has_more": next_cursor is not None,
        "type": kind,
        kind: {},
    }


def _bounded_list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise _refused(f"{path} should be an array", value)
    if len(value) > MAX_ITEMS:
        raise _too_long(f"{path}.length", MAX_ITEMS, len(value))
    return value


def _bounded_text(value: Any, path: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _refused(f"{path} should be a string or `null`", value)
    if len(value) > limit:
        raise _too_long(f"{path}.length", limit, len(value))
    return value


def _rich_text(items: Any, path: str) -> list[dict[str, Any]]:
    """Rich text as Notion returns it: annotations, plain_text and href filled in."""
    return [
        _rich_text_item(item, f"{path}[{i}]") for i, item in enumerate(_bounded_list(items, path))
    ]


def _rich_text_item(item: Any, path: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise _refused(f"{path} should be an object", item)
    kind = item.get("type") or ("equation" if "equation" in item else "text")
    annotations = {**ANNOTATIONS, **(item.get("annotations") or {})}
    if kind == "equation":
        expression = _bounded_text(
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
        raise _refused(f"{path}.type should be `text` or `equation` in the sandbox", kind)
    text = item.get("text") or {}
    content = _bounded_text(text.get("content"), f"{path}.text.content", MAX_TEXT)
    if content is None:
        raise _refused(f"{path}.text.content should be defined", UNDEFINED)
    link = text.get("link")
    href = _bounded_text(
        link.get("url") if isinstance(link, dict) else None, f"{path}.text.link.url", MAX_URL
    )
    return {
        "type": "text",
        "text": {"content": content, "link": {"url": href} if href else None},
        "annotations": annotations,
        "plain_text": content,
        "href": href,
    }


def _plain_text(rich_text: list[dict[str, Any]]) -> str:
    return "".join(item["plain_text"] for item in rich_text)


def _parse_moment(raw: Any, path: str) -> tuple[datetime, bool]:
    """An ISO 8601 date or date-time as UTC, and whether it was a date alone."""
    if not isinstance(raw, str):
        raise _refused(f"{path} should be an ISO 8601 date string", raw)
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise _refused(f"{path} should be a valid ISO 8601 date string", raw) from exc
    if moment.tzinfo is None:  # "If no timezone is provided, then the timezone defaults to UTC."
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC), len(raw) == 10


def _plain(ptype: str, value: Any) -> Any:
    """A property value reduced to what a person reads: text, number, names or ids."""
    if ptype in ("title", "rich_text"):
        return _plain_text(value)
    if ptype in ("select", "status"):
        return value["name"] if value else None
    if ptype == "multi_select":
        return [option["name"] for option in value]
    if ptype == "date":
        return value["start"] if value else None
    if ptype in ("people", "relation"):
        return [item["id"] for item in value]
    return value


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _empty_value(ptype: str) -> Any:
    if ptype in LIST_TYPES:
        return []
    return False if ptype == "checkbox" else None


# ----- filters -----------------------------------------------------------------------------
# How each property type is filtered: the condition keys it accepts and its operator family.
FILTER_KEYS = {"title": {"title", "rich_text"}}
FAMILY = {
    "title": "text",
    "rich_text": "text",
    "url": "text",
    "email": "text",
    "number": "number",
    "checkbox": "checkbox",
    "select": "option",
    "status": "option",
    "multi_select": "options",
    "people": "ids",
    "relation": "ids",
    "date": "date",
    "created_time": "date",
    "last_edited_time": "date",
}
EMPTINESS = {"is_empty": lambda v, _: _is_empty(v), "is_not_empty": lambda v, _: not _is_empty(v)}


def _compare(value: datetime | None, operand: tuple[datetime, bool]) -> int | None:
    """Sign of value - operand; at day precision when the operand is a date alone."""
    if value is None:
        return None
    moment, date_only = operand
    left, right = (value.date(), moment.date()) if date_only else (value, moment)
    return (left > right) - (left < right)


def _dated(check: Callable[[int], bool]) -> Callable[[Any, Any], bool]:
    return lambda v, x: (sign := _compare(v, x)) is not None and check(sign)


def _ordered(check: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    return lambda v, x: v is not None and check(v, x)


# Relative date windows in days (months and years approximated as 30 and 365 days).
RELATIVE = {
    "past_week": -7,
    "past_month": -30,
    "past_year": -365,
    "next_week": 7,
    "next_month": 30,
    "next_year": 365,
}
OPERATORS: dict[str, dict[str, Callable[[Any, Any], bool]]] = {
    "text": {
        "equals": lambda v, x: v == x,
        "does_not_equal": lambda v, x: v != x,
        # Case-insensitive like the Notion UI's text filters (UNCONFIRMED for the API).
        "contains": lambda v, x: x.lower() in v.lower(),
        "does_not_contain": lambda v, x: x.lower() not in v.lower(),
        "starts_with": lambda v, x: v.lower().startswith(x.lower()),
        "ends_with": lambda v, x: v.lower().endswith(x.lower()),
        **EMPTINESS,
    },
    "number": {
        "equals": lambda v, x: v == x,
        "does_not_equal": lambda v, x: v != x,
        "greater_than": _ordered(lambda v, x: v > x),
        "less_than": _ordered(lambda v, x: v < x),
        "greater_than_or_equal_to": _ordered(lambda v, x: v >= x),
        "less_than_or_equal_to": _ordered(lambda v, x: v <= x),
        **EMPTINESS,
    },
    "checkbox": {"equals": lambda v, x: v == x, "does_not_equal": lambda v, x: v != x},
    "option": {"equals": lambda v, x: v == x, "does_not_equal": lambda v, x: v != x, **EMPTINESS},
    "options": {
        "contains": lambda v, x: x in v,
        "does_not_contain": lambda v, x: x not in v,
        **EMPTINESS,
    },
    "ids": {
        "contains": lambda v, x: x in v,
        "does_not_contain": lambda v, x: x not in v,
        **EMPTINESS,
    },
    "date": {
        "equals": _dated(lambda s: s == 0),
        "before": _dated(lambda s: s < 0),
        "after": _dated(lambda s: s > 0),
        "on_or_before": _dated(lambda s: s <= 0),
        "on_or_after": _dated(lambda s: s >= 0),
        **{name: _ordered(lambda v, x: x[0] <= v <= x[1]) for name in RELATIVE},
        **EMPTINESS,
    },
}
OPERAND_TYPES = {
    "text": (str, "string"),
    "number": ((int, float), "number"),
    "checkbox": (bool, "boolean"),
    "option": (str, "string"),
    "options": (str, "string"),
}


class NotionEmulator(Emulator):
    """Notion's public API as the onboarding app uses it, with an integration bot user."""

    name = "notion"

    def __init__(self, clock: Clock | None = None, rate_scale: float = 1.0, seed: int = 0) -> None:
        self.seed = seed
        super().__init__(clock=clock, rate_scale=rate_scale, seed=seed)

    def routes(self) -> list[Rule]:
        # There is deliberately no POST /v1/databases/{id}/query: it is the pre-2025-09-03 route,
        # answered like any unknown URL with 400 invalid_request_url (UNCONFIRMED for 2025-09-03).
        return [
            Rule("/v1/users", methods=["GET"], endpoint="list_users"),
            Rule("/v1/users/me", methods=["GET"], endpoint="get_me"),
            Rule("/v1/users/<user_id>", methods=["GET"], endpoint="get_user"),
            Rule("/v1/databases", methods=["POST"], endpoint="create_database"),
            Rule("/v1/databases/<database_id>", methods=["GET"], endpoint="get_database"),
            Rule("/v1/databases/<database_id>", methods=["PATCH"], endpoint="update_database"),
            Rule("/v1/data_sources/<source_id>", methods=["GET"], endpoint="get_data_source"),
            Rule("/v1/data_sources/<source_id>", methods=["PATCH"], endpoint="update_data_source"),
            Rule(
                "/v1/data_sources/<source_id>/query", methods=["POST"], endpoint="query_data_source"
            ),
            Rule("/v1/pages", methods=["POST"], endpoint="create_page"),
            Rule("/v1/pages/<page_id>", methods=["GET"], endpoint="get_page"),
            Rule("/v1/pages/<page_id>", methods=["PATCH"], endpoint="update_page"),
            Rule("/v1/blocks/<block_id>/children", methods=["GET"], endpoint="list_children"),
            Rule("/v1/blocks/<block_id>/children", methods=["PATCH"], endpoint="append_children"),
            Rule("/v1/search", methods=["POST"], endpoint="search"),
        ]

    def _serve(self, request: Request) -> Response:
        response = super()._serve(request)
        if request.method != "GET" and not request.path.endswith(("/query", "/search")):
            self._changed()
        return response

    def _changed(self) -> None:
        """Something was written: cached query orders are stale."""
        with self.lock:
            self._changes += 1

    def reset_state(self) -> None:
        self._random = random.Random(self.seed)
        self._seq = itertools.count(1)
        self.tokens = {DEFAULT_TOKEN}
        self.limiter = TokenBucketLimit(RATE_PER_SECOND * self.rate_scale, BURST * self.rate_scale)
        self.workspace_id = self._uuid()
        self._pages: dict[str, _Page] = {}
        self._sources: dict[str, _DataSource] = {}
        self._databases: dict[str, _Database] = {}
        self._children: dict[str, list[dict[str, Any]]] = {}  # page or block id -> blocks
        self._block_ids: set[str] = set()
        self._webhooks: NotionWebhookSender | None = None
        # Query results in order, kept until anything changes: a cursor walk over 200,000
        # pages would otherwise filter and sort them all again for every page of 100.
        self._changes = 0
        self._ordered: dict[tuple[Any, ...], list[_Page]] = {}
        self._ordered_at = 0
        bot_id = self._uuid()
        self.bot = {
            "object": "user",
            "id": bot_id,
            "name": "Onboarding Autopilot",
            "avatar_url": None,
            "type": "bot",
            "bot": {
                "owner": {"type": "workspace", "workspace": True},
                "workspace_name": "Sandbox workspace",
            },
        }
        self.users: dict[str, dict[str, Any]] = {bot_id: self.bot}
        # A workspace always has an owner: the default person for user edits.
        self.owner = self._add_person("Sandbox Owner", "owner@example.com", None)

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

    def request_id(self) -> str:
        return str(uuid.uuid4())

    # ----- users -----------------------------------------------------------------------
    @_endpoint
    def list_users(self, request: Request) -> dict[str, Any]:
        users = sorted(self.users.values(), key=lambda u: u["type"] == "bot")
        size = _page_size(request.args.get("page_size"), "query.page_size")
        chunk, cursor = _paginate(users, lambda u: u["id"], request.args.get("start_cursor"), size)
        return _list(copy.deepcopy(chunk), cursor, "user")

    @_endpoint
    def get_me(self, request: Request) -> dict[str, Any]:
        return copy.deepcopy(self.bot)

    @_endpoint
    def get_user(self, request: Request, user_id: str) -> dict[str, Any]:
        return copy.deepcopy(
            self._lookup(self.users, "user", user_id, "path failed validation: path.user_id")
        )

    # ----- databases and data sources --------------------------------------------------
    @_endpoint
    def create_database(self, request: Request) -> dict[str, Any]:
        body = _body(request)
        parent = self._database_parent(body.get("parent"))
        title = _rich_text(body.get("title") or [], "body.title")
        initial = body.get("initial_data_source") or {}
        # Without initial_data_source we give the one-title-column table the Notion UI makes
        # (UNCONFIRMED; tolerant rather than a 400).
        properties = initial.get("properties", {"Name": {"title": {}}})
        schema = self._new_schema(properties, "body.initial_data_source.properties")
        now, bot = self.now(), self.bot["id"]
        stamps = {"created": now, "edited": now, "created_by": bot, "edited_by": bot}
        database = _Database(id=self._uuid(), parent=parent, title=title, **stamps)
        database.description = _rich_text(body.get("description") or [], "body.description")
        database.is_inline = bool(body.get("is_inline", False))
        source = _DataSource(
            id=self._uuid(),
            database_id=database.id,
            title=copy.deepcopy(title),
            properties=schema,
            **stamps,
        )
        database.source_ids.append(source.id)
        self._databases[database.id] = database
        self._sources[source.id] = source
        return self._database_json(database)

    @_endpoint
    def get_database(self, request: Request, database_id: str) -> dict[str, Any]:
        return self._database_json(self._database(database_id))

    @_endpoint
    def update_database(self, request: Request, database_id: str) -> dict[str, Any]:
        database = self._database(database_id)
        body = _body(request)
        if "title" in body:
            database.title = _rich_text(body["title"], "body.title")
        if "description" in body:
            database.description = _rich_text(body["description"], "body.description")
        for flag in ("is_inline", "is_locked"):
            if flag in body:
                setattr(database, flag, bool(body[flag]))
        trash = _trash_flag(body)
        if trash is not None:
            database.in_trash = trash
        database.touch(self.now(), self.bot["id"])
        return self._database_json(database)

    @_endpoint
    def get_data_source(self, request: Request, source_id: str) -> dict[str, Any]:
        return self._source_json(self._source(source_id))

    @_endpoint
    def update_data_source(self, request: Request, source_id: str) -> dict[str, Any]:
        source = self._source(source_id)
        body = _body(request)
        if "title" in body:
            source.title = _rich_text(body["title"], "body.title")
        if body.get("properties") is not None:
            self._change_schema(source, body["properties"], "body.properties")
        trash = _trash_flag(body)
        if trash is not None:
            source.in_trash = trash
        source.touch(self.now(), self.bot["id"])
        return self._source_json(source)

    @_endpoint
    def query_data_source(self, request: Request, source_id: str) -> dict[str, Any]:
        source = self._source(source_id)
        body = _body(request)
        spec = body.get("filter")
        test = self._compile_filter(source, spec, "body.filter", 0) if spec else (lambda p: True)
        # in_trash/archived true adds trashed pages to the live ones (UNCONFIRMED whether
        # Notion then returns only trashed pages); by default trashed pages are left out.
        with_trash = _trash_flag(body) is True
        minute = self.now().replace(second=0, microsecond=0)  # relative date filters move
        key = (source.id, json.dumps([spec, body.get("sorts")], sort_keys=True), with_trash, minute)
        if self._ordered_at != self._changes:
            self._ordered, self._ordered_at = {}, self._changes
        ordered = self._ordered.get(key)
        if ordered is None:
            pages = [
                page
                for page in self._pages.values()
                if page.parent.get("data_source_id") == source.id
                and (with_trash or not page.in_trash)
                and test(page)
            ]
            ordered = self._ordered[key] = self._sorted(source, pages, body.get("sorts"))
        size = _page_size(body.get("page_size"), "body.page_size")
        chunk, cursor = _paginate(ordered, lambda p: p.id, body.get("start_cursor"), size)
        only = request.args.getlist("filter_properties") or None
        return _list([self._page_json(p, only) for p in chunk], cursor, "page_or_data_source")

    # ----- pages -----------------------------------------------------------------------
    @_endpoint
    def create_page(self, request: Request) -> dict[str, Any]:
        return self._create_page(_body(request))

    def _create_page(self, body: dict[str, Any]) -> dict[str, Any]:
        parent, schema = self._page_parent(body.get("parent"))
        values = self._written_values(schema, body.get("properties") or {}, "body.properties")
        now, bot = self.now(), self.bot["id"]
        page = _Page(
            id=self._uuid(),
            parent=parent,
            values={**self._defaults(schema), **values},
            seq=next(self._seq),
            created=now,
            edited=now,
            created_by=bot,
            edited_by=bot,
        )
        blocks = self._new_blocks(
            page.id, "page_id", body.get("children") or [], "body.children", 1
        )
        self._pages[page.id] = page
        self._store_blocks(page.id, blocks)
        return self._page_json(page)

    @_endpoint
    def get_page(self, request: Request, page_id: str) -> dict[str, Any]:
        only = request.args.getlist("filter_properties") or None
        return self._page_json(self._page(page_id), only)

    @_endpoint
    def update_page(self, request: Request, page_id: str) -> dict[str, Any]:
        page = self._page(page_id)
        body = _body(request)
        trash = _trash_flag(body)
        if trash is False:
            page.in_trash = False
        if body.get("properties"):
            self._edit(page, body["properties"], "body.properties", self.bot["id"])
        if trash is not None:
            page.in_trash = trash
        page.touch(self.now(), self.bot["id"])
        return self._page_json(page)

    # ----- blocks ----------------------------------------------------------------------
    @_endpoint
    def append_children(self, request: Request, block_id: str) -> dict[str, Any]:
        parent_id, parent_type = self._block_parent(block_id)
        body = _body(request)
        blocks = self._new_blocks(parent_id, parent_type, body.get("children"), "body.children", 1)
        after = body.get("after")
        position = None
        if after is not None:
            siblings = [b["id"] for b in self._children.get(parent_id, [])]
            after = _normal_id(after, "body failed validation: body.after")
            if after not in siblings:
                raise _not_found("block", after)
            position = siblings.index(after) + 1
        self._store_blocks(parent_id, blocks, position)
        page = self._pages.get(parent_id)
        if page is not None:
            page.touch(self.now(), self.bot["id"])
        return _list(copy.deepcopy(blocks), None, "block")

    @_endpoint
    def list_children(self, request: Request, block_id: str) -> dict[str, Any]:
        parent_id, _ = self._block_parent(block_id)
        blocks = self._children.get(parent_id, [])
        size = _page_size(request.args.get("page_size"), "query.page_size")
        chunk, cursor = _paginate(blocks, lambda b: b["id"], request.args.get("start_cursor"), size)
        return _list(copy.deepcopy(chunk), cursor, "block")

    # ----- search ----------------------------------------------------------------------
    @_endpoint
    def search(self, request: Request) -> dict[str, Any]:
        body = _body(request)
        kinds = self._search_kinds(body.get("filter"))
        query = (body.get("query") or "").lower()
        records: list[_Record] = []
        if "page" in kinds:
            records += [p for p in self._pages.values() if not p.in_trash]
        if "data_source" in kinds:
            records += [s for s in self._sources.values() if not s.in_trash]
        found = [r for r in records if query in self._title_of(r).lower()]
        sort = body.get("sort") or {}
        found.sort(key=lambda r: r.edited, reverse=sort.get("direction") != "ascending")
        size = _page_size(body.get("page_size"), "body.page_size")
        chunk, cursor = _paginate(found, lambda r: r.id, body.get("start_cursor"), size)
        return _list([self._record_json(r) for r in chunk], cursor, "page_or_data_source")

    # ----- sandbox commands ------------------------------------------------------------
    @command
    def seed_user(self, name: str, email: str, id: str | None = None) -> dict[str, Any]:
        """Add a person to the workspace (an owner or CSM the app can assign)."""
        with self.lock:
            return copy.deepcopy(self._add_person(name, email, id))

    @command
    def seed_parent_page(self, title: str) -> dict[str, Any]:
        """A workspace-level page shared with the integration, where databases can go."""
        self._changed()
        with self.lock:
            now, person = self.now(), self.owner["id"]
            page = _Page(
                id=self._uuid(),
                parent={"type": "workspace", "workspace": True},
                values={"title": _rich_text([{"text": {"content": title}}], "title")},
                seq=next(self._seq),
                created=now,
                edited=now,
                created_by=person,
                edited_by=person,
            )
            self._pages[page.id] = page
            return self._page_json(page)

    @command
    def edit_page_as_user(
        self, page_id: str, properties: dict[str, Any], user_id: str | None = None
    ) -> dict[str, Any]:
        """A person editing a page in Notion: new values, last_edited_by that person."""
        self._changed()
        with self.lock:
            page = self._page(page_id, "page_id")
            person = self._person(user_id)
            updated = self._edit(page, properties, "properties", person["id"])
            page.touch(self.now(), person["id"])
            self._notify("page.properties_updated", page, person, updated_properties=updated)
            return self._page_json(page)

    @command
    def seed_page(self, data_source_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        """A page made by the integration without an HTTP call (bulk set-ups for benchmarks)."""
        self._changed()
        with self.lock:
            parent = {"type": "data_source_id", "data_source_id": data_source_id}
            return self._create_page({"parent": parent, "properties": properties})

    @command
    def trash_page_as_user(self, page_id: str, user_id: str | None = None) -> dict[str, Any]:
        """A person moving a page to the trash."""
        self._changed()
        with self.lock:
            page = self._page(page_id, "page_id")
            person = self._person(user_id)
            page.in_trash = True
            page.touch(self.now(), person["id"])
            self._notify("page.deleted", page, person)
            return self._page_json(page)

    @command
    def add_token(self, token: str) -> None:
        """Accept another integration token (each one gets its own rate limit)."""
        with self.lock:
            self.tokens.add(token)

    @command
    def configure_webhooks(self, target_url: str, verification_token: str) -> dict[str, Any]:
        """Subscribe ``target_url`` to page events; sends the verification handshake."""
        with self.lock:
            self._webhooks = NotionWebhookSender(
                target_url,
                verification_token,
                workspace_id=self.workspace_id,
                integration_id=self.bot["id"],
            )
        self._webhooks.handshake()
        return {"subscription_id": self._webhooks.subscription_id, "target_url": target_url}

    @command
    def webhook_deliveries(self) -> list[dict[str, Any]]:
        """Every webhook POST attempted so far (empty without a subscription)."""
        return self._webhooks.deliveries() if self._webhooks else []

    # ----- Python accessors for tests --------------------------------------------------
    def pages(self, data_source_id: str | None = None, include_trashed: bool = False) -> list[dict]:
        """Pages as the API returns them, oldest first."""
        with self.lock:
            found = [
                p
                for p in sorted(self._pages.values(), key=lambda p: p.seq)
                if (data_source_id is None or p.parent.get("data_source_id") == data_source_id)
                and (include_trashed or not p.in_trash)
            ]
            return [self._page_json(p) for p in found]

    def page(self, id: str) -> dict[str, Any]:
        with self.lock:
            return self._page_json(self._page(id, "id"))

    def data_sources(self) -> list[dict[str, Any]]:
        with self.lock:
            return [self._source_json(s) for s in self._sources.values()]

    def databases(self) -> list[dict[str, Any]]:
        with self.lock:
            return [self._database_json(d) for d in self._databases.values()]

    @property
    def webhooks(self) -> NotionWebhookSender | None:
        return self._webhooks

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "databases": [self._database_state(d) for d in self._databases.values()],
                "other_pages": [
                    self._title_of(p)
                    for p in self._pages.values()
                    if "data_source_id" not in p.parent
                ],
                "users": [f"{u['name']} ({u['type']})" for u in self.users.values()],
                "webhook_deliveries": len(self.webhook_deliveries()),
            }

    def _database_state(self, database: _Database) -> dict[str, Any]:
        return {
            "id": database.id,
            "title": _plain_text(database.title),
            "in_trash": database.in_trash,
            "data_sources": [self._source_state(self._sources[s]) for s in database.source_ids],
        }

    def _source_state(self, source: _DataSource) -> dict[str, Any]:
        pages = [p for p in self._pages.values() if p.parent.get("data_source_id") == source.id]
        return {
            "id": source.id,
            "name": _plain_text(source.title),
            "pages": [self._page_state(p) for p in pages],
        }

    def _page_state(self, page: _Page) -> dict[str, Any]:
        values = {}
        for name, prop in self._schema_of(page).items():
            raw = page.values.get(prop["id"], _empty_value(prop["type"]))
            value = (
                [u["name"] for u in raw] if prop["type"] == "people" else _plain(prop["type"], raw)
            )
            if prop["type"] != "title" and not _is_empty(value):
                values[name] = value
        return {
            "id": page.id,
            "title": self._title_of(page),
            "in_trash": page.in_trash,
            "values": values,
        }

    # ----- lookups ---------------------------------------------------------------------
    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def _lookup(self, table: dict[str, Any], kind: str, raw: Any, path: str) -> Any:
        object_id = _normal_id(raw, path)
        if object_id not in table:
            raise _not_found(kind, object_id)
        return table[object_id]

    def _page(self, raw: Any, path: str = "path failed validation: path.page_id") -> _Page:
        return self._lookup(self._pages, "page", raw, path)

    def _source(
        self, raw: Any, path: str = "path failed validation: path.data_source_id"
    ) -> _DataSource:
        return self._lookup(self._sources, "data source", raw, path)

    def _database(
        self, raw: Any, path: str = "path failed validation: path.database_id"
    ) -> _Database:
        return self._lookup(self._databases, "database", raw, path)

    def _person(self, user_id: str | None) -> dict[str, Any]:
        person = (
            self.owner if user_id is None else self._lookup(self.users, "user", user_id, "user_id")
        )
        if person["type"] != "person":
            raise _invalid(f"User {person['id']} is not a person.")
        return person

    def _add_person(self, name: str, email: str, user_id: str | None) -> dict[str, Any]:
        user_id = _normal_id(user_id, "id") if user_id else self._uuid()
        self.users[user_id] = {
            "object": "user",
            "id": user_id,
            "name": name,
            "avatar_url": None,
            "type": "person",
            "person": {"email": email},
        }
        return self.users[user_id]

    def _schema_of(self, page: _Page) -> dict[str, dict[str, Any]]:
        source_id = page.parent.get("data_source_id")
        return self._sources[source_id].properties if source_id else PAGE_SCHEMA

    @staticmethod
    def _property(schema: dict[str, dict[str, Any]], key: Any) -> dict[str, Any] | None:
        """A property by name or by id, as Notion accepts either."""
        if key in schema:
            return schema[key]
        return next((p for p in schema.values() if p["id"] == key), None)

    def _title_of(self, record: _Record) -> str:
        if isinstance(record, _DataSource):
            return _plain_text(record.title)
        title = next(p for p in self._schema_of(record).values() if p["type"] == "title")
        return _plain_text(record.values.get(title["id"], []))

    # ----- parents ---------------------------------------------------------------------
    def _database_parent(self, parent: Any) -> dict[str, Any]:
        if not isinstance(parent, dict) or "page_id" not in parent:
            raise _refused("body.parent.page_id should be defined", UNDEFINED)
        page = self._page(parent["page_id"], "body failed validation: body.parent.page_id")
        return {"type": "page_id", "page_id": page.id}

    def _page_parent(self, parent: Any) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        """The page's parent as Notion returns it, and the schema its properties follow."""
        if not isinstance(parent, dict):
            raise _refused("body.parent should be defined", UNDEFINED)
        if "data_source_id" in parent:
            source = self._source(
                parent["data_source_id"], "body failed validation: body.parent.data_source_id"
            )
        elif "database_id" in parent:
            # The old parent shape, still accepted for a single-source database (UNCONFIRMED).
            database = self._database(
                parent["database_id"], "body failed validation: body.parent.database_id"
            )
            if len(database.source_ids) != 1:
                raise _invalid(
                    "Database has more than one data source: use a data_source_id parent."
                )
            source = self._sources[database.source_ids[0]]
        elif "page_id" in parent:
            page = self._page(parent["page_id"], "body failed validation: body.parent.page_id")
            return {"type": "page_id", "page_id": page.id}, PAGE_SCHEMA
        else:
            raise _refused(
                "body.parent should have a data_source_id, database_id or page_id", parent
            )
        if source.in_trash:
            raise _invalid(
                "Can't edit block that is archived. You must unarchive the block before editing."
            )
        parent = {
            "type": "data_source_id",
            "data_source_id": source.id,
            "database_id": source.database_id,
        }
        return parent, source.properties

    # ----- schemas ---------------------------------------------------------------------
    def _new_schema(self, properties: Any, path: str) -> dict[str, dict[str, Any]]:
        if not isinstance(properties, dict):
            raise _refused(f"{path} should be an object")
        schema: dict[str, dict[str, Any]] = {}
        for name, config in properties.items():
            ptype = self._config_type(config, f"{path}.{name}")
            schema[name] = self._schema_property(name, ptype, config, schema, None)
        self._require_one_title(schema)
        return schema

    def _change_schema(self, source: _DataSource, changes: Any, path: str) -> None:
        """Add, rename, retype or remove properties (``null`` removes), all or nothing."""
        if not isinstance(changes, dict):
            raise _refused(f"{path} should be an object")
        schema = dict(source.properties)
        retyped: list[str] = []
        for key, change in changes.items():
            current = self._property(schema, key)
            if change is None:
                if current is None:
                    raise _invalid(f"{key} is not a property that exists.")
                del schema[current["name"]]
                continue
            if not isinstance(change, dict):
                raise _refused(f"{path}.{key} should be an object or `null`")
            name = change.get("name") or (current["name"] if current else key)
            ptype = self._config_type(change, f"{path}.{key}", current)
            if current is not None:
                del schema[current["name"]]
                if ptype != current["type"]:
                    retyped.append(current["id"])
            schema[name] = self._schema_property(name, ptype, change, schema, current)
        self._require_one_title(schema)
        source.properties = schema
        for page in self._pages.values():  # a retyped property starts empty
            if page.parent.get("data_source_id") == source.id:
                for property_id in retyped:
                    page.values.pop(property_id, None)

    @staticmethod
    def _config_type(config: Any, path: str, current: dict[str, Any] | None = None) -> str:
        """The property type a schema config names (its ``type`` or its one type key)."""
        if not isinstance(config, dict):
            raise _refused(f"{path} should be an object")
        named = [config["type"]] if "type" in config else [k for k in config if k in PROPERTY_TYPES]
        if not named and current is not None:
            return current["type"]  # a rename or description change keeps the type
        if len(named) != 1 or named[0] not in PROPERTY_TYPES:
            raise _refused(
                f"{path} should define one of the types {', '.join(PROPERTY_TYPES)}", config
            )
        return named[0]

    def _schema_property(
        self,
        name: str,
        ptype: str,
        config: dict[str, Any],
        schema: dict[str, dict[str, Any]],
        current: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """A property as GET /v1/data_sources returns it, keeping ids across edits."""
        if ptype == "title":
            property_id = "title"
        elif current is not None:
            property_id = current["id"]
        else:
            property_id = self._property_id(schema)
        settings = config.get(ptype) or {}
        kept = current.get(ptype, {}) if current and current["type"] == ptype else {}
        built: dict[str, Any] = {"id": property_id, "name": name, "type": ptype}
        if "description" in config:
            built["description"] = config["description"]
        elif current and "description" in current:
            built["description"] = current["description"]
        if ptype in ("select", "multi_select"):
            options = settings.get("options", kept.get("options", []))
            built[ptype] = {"options": self._options(options, kept.get("options", []), ptype)}
        elif ptype == "status":
            built[ptype] = kept or self._status_config()
        elif ptype == "number":
            built[ptype] = {"format": settings.get("format", kept.get("format", "number"))}
        elif ptype == "relation":
            built[ptype] = kept if kept and not settings else self._relation_config(settings, name)
        else:
            built[ptype] = {}
        return built

    def _property_id(self, schema: dict[str, dict[str, Any]]) -> str:
        """A short, URL-encoded id like Notion's (``%3AUPp``), unique in its schema."""
        taken = {p["id"] for p in schema.values()}
        alphabet = string.ascii_letters + string.digits + ":;<=>?@[]^_`{|}~"
        while True:
            candidate = quote("".join(self._random.choices(alphabet, k=4)), safe="")
            if candidate not in taken and candidate != "title":
                return candidate

    def _options(self, given: Any, existing: list[dict[str, Any]], ptype: str) -> list[dict]:
        """Options by name, keeping the id and colour of those that already exist."""
        known = {o["name"]: o for o in existing}
        options = []
        for i, option in enumerate(_bounded_list(given, f"body.{ptype}.options")):
            name = option.get("name") if isinstance(option, dict) else None
            if not isinstance(name, str) or not name or "," in name:
                raise _refused(
                    f"body.{ptype}.options[{i}].name should be a non-empty string without commas"
                )
            previous = known.get(name) or {
                "id": self._uuid(),
                "color": "default",
                "description": None,
            }
            options.append(
                {**previous, "name": name, "color": option.get("color", previous["color"])}
            )
        return options

    def _status_config(self) -> dict[str, Any]:
        options, groups = [], []
        for name, color, group, group_color in STATUS_OPTIONS:
            option = {"id": self._uuid(), "name": name, "color": color, "description": None}
            options.append(option)
            groups.append(
                {
                    "id": self._uuid(),
                    "name": group,
                    "color": group_color,
                    "option_ids": [option["id"]],
                }
            )
        return {"options": options, "groups": groups}

    def _relation_config(self, settings: dict[str, Any], name: str) -> dict[str, Any]:
        # 2025-09-03 relations name a data_source_id. dual_property is accepted, but the
        # sandbox does not create the synced property on the other side.
        raw = settings.get("data_source_id")
        if raw is None:
            raise _refused(
                f"body.properties.{name}.relation.data_source_id should be defined", UNDEFINED
            )
        target = self._source(
            raw, f"body failed validation: body.properties.{name}.relation.data_source_id"
        )
        kind = "dual_property" if "dual_property" in settings else "single_property"
        return {
            "data_source_id": target.id,
            "database_id": target.database_id,
            "type": kind,
            kind: {},
        }

    @staticmethod
    def _require_one_title(schema: dict[str, dict[str, Any]]) -> None:
        titles = [p for p in schema.values() if p["type"] == "title"]
        if len(titles) != 1:
            raise _invalid(
                f"A data source must have exactly one title property, instead it has {len(titles)}."
            )

    # ----- property values -------------------------------------------------------------
    def _defaults(self, schema: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """Values a new page gets unasked: a status starts at its first option."""
        return {
            p["id"]: copy.deepcopy(self._option_value(p["status"]["options"][0]))
            for p in schema.values()
            if p["type"] == "status" and p["status"]["options"]
        }

    def _edit(self, page: _Page, properties: Any, path: str, user_id: str) -> list[str]:
        """Write property values on a live page; returns the ids of those written."""
        if page.in_trash:
            raise _invalid(
                "Can't edit block that is archived. You must unarchive the block before editing."
            )
        values = self._written_values(self._schema_of(page), properties, path)
        page.values.update(values)
        return list(values)

    def _written_values(
        self, schema: dict[str, dict[str, Any]], properties: Any, path: str
    ) -> dict[str, Any]:
        """Validate every given value first, then return them by property id."""
        if not isinstance(properties, dict):
            raise _refused(f"{path} should be an object", properties)
        written = {}
        for key, value in properties.items():
            prop = self._property(schema, key)
            if prop is None:
                raise _invalid(f"{key} is not a property that exists.")
            written[prop["id"]] = self._value(prop, value, f"{path}.{key}")
        return written

    def _value(self, prop: dict[str, Any], value: Any, path: str) -> Any:
        ptype, name = prop["type"], prop["name"]
        if ptype in READ_ONLY:
            raise _invalid(f"{name} is a {ptype} property, which cannot be written.")
        if not isinstance(value, dict) or ptype not in value:
            raise _invalid(f"{name} is expected to be {ptype}.")
        raw, path = value[ptype], f"{path}.{ptype}"
        if ptype in ("title", "rich_text"):
            return _rich_text(raw, path)
        if ptype in ("url", "email"):
            return _bounded_text(raw, path, MAX_URL if ptype == "url" else MAX_EMAIL)
        if ptype == "number":
            if raw is not None and (isinstance(raw, bool) or not isinstance(raw, int | float)):
                raise _refused(f"{path} should be a number or `null`", raw)
            return raw
        if ptype == "checkbox":
            if not isinstance(raw, bool):
                raise _refused(f"{path} should be a boolean", raw)
            return raw
        if ptype == "multi_select":
            return [
                self._chosen(prop, item, f"{path}[{i}]")
                for i, item in enumerate(_bounded_list(raw, path))
            ]
        if ptype in ("select", "status"):
            return None if raw is None else self._chosen(prop, raw, path)
        if ptype == "date":
            return None if raw is None else self._date_value(raw, path)
        items = _bounded_list(raw, path)
        return [self._reference(ptype, item, f"{path}[{i}]") for i, item in enumerate(items)]

    def _reference(self, ptype: str, item: Any, path: str) -> dict[str, Any]:
        """A people or relation item: the user or page it names must exist."""
        raw = item.get("id") if isinstance(item, dict) else item
        object_id = _normal_id(raw, f"body failed validation: {path}.id")
        table, kind = (self.users, "user") if ptype == "people" else (self._pages, "page")
        if object_id not in table:
            raise _invalid(f"Could not find {kind} with ID: {object_id}.")
        return copy.deepcopy(self.users[object_id]) if ptype == "people" else {"id": object_id}

    def _chosen(self, prop: dict[str, Any], ref: Any, path: str) -> dict[str, Any]:
        """The option a select, multi_select or status value names; select adds new names."""
        if not isinstance(ref, dict) or not ({"id", "name"} & ref.keys()):
            raise _refused(f"{path} should be an object with a name or an id", ref)
        ptype = prop["type"]
        options = prop[ptype]["options"]
        found = next(
            (o for o in options if o["id"] == ref.get("id") or o["name"] == ref.get("name")), None
        )
        if found is not None:
            return self._option_value(found)
        if ptype == "status" or "name" not in ref:
            label = ref.get("name", ref.get("id"))
            raise _invalid(
                f'Invalid {ptype} option. {ptype.capitalize()} option "{label}" '
                f"does not exist for {prop['name']}."
            )
        # A new select/multi_select name creates the option (UNCONFIRMED detail: colour default).
        options.extend(self._options([ref], [], ptype))
        return self._option_value(options[-1])

    @staticmethod
    def _option_value(option: dict[str, Any]) -> dict[str, Any]:
        return {"id": option["id"], "name": option["name"], "color": option["color"]}

    @staticmethod
    def _date_value(raw: Any, path: str) -> dict[str, Any]:
        if not isinstance(raw, dict) or "start" not in raw:
            raise _refused(f"{path}.start should be defined", UNDEFINED)
        _parse_moment(raw["start"], f"{path}.start")
        if raw.get("end") is not None:
            _parse_moment(raw["end"], f"{path}.end")
        return {"start": raw["start"], "end": raw.get("end"), "time_zone": raw.get("time_zone")}

    # ----- filters and sorts -----------------------------------------------------------
    def _compile_filter(
        self, source: _DataSource, spec: Any, path: str, depth: int
    ) -> Callable[[_Page], bool]:
        """Check a whole filter up front and return the predicate it describes."""
        if not isinstance(spec, dict):
            raise _refused(f"{path} should be an object", spec)
        for word, combine in (("and", all), ("or", any)):
            if word in spec:
                if depth > MAX_FILTER_NESTING:
                    raise _refused(
                        f"{path} should nest at most {MAX_FILTER_NESTING} levels deep", spec
                    )
                parts = _bounded_list(spec[word], f"{path}.{word}")
                tests = [
                    self._compile_filter(source, part, f"{path}.{word}[{i}]", depth + 1)
                    for i, part in enumerate(parts)
                ]
                return lambda page: combine(test(page) for test in tests)
        if "timestamp" in spec:
            kind = spec["timestamp"]
            if kind not in READ_ONLY:
                raise _refused(
                    f"{path}.timestamp should be `created_time` or `last_edited_time`", kind
                )
            prop = {"id": kind, "name": kind, "type": kind}
            return self._compile_condition(prop, spec.get(kind), f"{path}.{kind}")
        if "property" not in spec:
            raise _refused(f"{path} should be a property, timestamp, `and` or `or` filter", spec)
        prop = self._property(source.properties, spec["property"])
        if prop is None:
            raise _invalid(f"Could not find property with name or id: {spec['property']}")
        kinds = [k for k in spec if k not in ("property", "type")]
        allowed = FILTER_KEYS.get(prop["type"], {prop["type"]})
        if len(kinds) != 1 or kinds[0] not in allowed:
            raise _refused(
                f"{path} should have a `{prop['type']}` condition for property {prop['name']}", spec
            )
        return self._compile_condition(prop, spec[kinds[0]], f"{path}.{kinds[0]}")

    def _compile_condition(
        self, prop: dict[str, Any], condition: Any, path: str
    ) -> Callable[[_Page], bool]:
        family = FAMILY[prop["type"]]
        if not isinstance(condition, dict) or len(condition) != 1:
            raise _refused(f"{path} should have exactly one condition")
        ((operator, operand),) = condition.items()
        test = OPERATORS[family].get(operator)
        if test is None:
            expected = ", ".join(OPERATORS[family])
            raise _refused(f"{path} should be one of {expected} for a {prop['type']}", operator)
        operand = self._operand(family, operator, operand, f"{path}.{operator}")
        value_of = self._filter_value(prop)
        return lambda page: test(value_of(page), operand)

    def _operand(self, family: str, operator: str, operand: Any, path: str) -> Any:
        """The filter's value, checked and converted once (dates parsed, ids normalised)."""
        if operator in EMPTINESS:
            if operand is not True:
                raise _refused(f"{path} should be `true`", operand)
            return operand
        if family == "date" and operator in RELATIVE:
            now, days = self.now(), RELATIVE[operator]
            return (
                (now + timedelta(days=days), now) if days < 0 else (now, now + timedelta(days=days))
            )
        if family == "date":
            return _parse_moment(operand, path)
        if family == "ids":
            return _normal_id(operand, f"body failed validation: {path}")
        expected, label = OPERAND_TYPES[family]
        if not isinstance(operand, expected) or (family == "number" and isinstance(operand, bool)):
            raise _refused(f"{path} should be a {label}", operand)
        return operand

    def _filter_value(self, prop: dict[str, Any]) -> Callable[[_Page], Any]:
        """How a filter reads a page's value: plain text, names, ids, or a UTC moment."""
        ptype = prop["type"]
        if ptype == "created_time":  # filters see the rounded times, as Notion exposes them
            return lambda page: _minute(page.created)
        if ptype == "last_edited_time":
            return lambda page: _minute(page.edited)

        def read(page: _Page) -> Any:
            value = _plain(ptype, page.values.get(prop["id"], _empty_value(ptype)))
            if ptype == "date" and value is not None:
                return _parse_moment(value, "date")[0]
            return "" if value is None and FAMILY[ptype] == "text" else value

        return read

    def _sorted(self, source: _DataSource, pages: list[_Page], sorts: Any) -> list[_Page]:
        """Pages in the asked order, empty values last; without sorts newest first (UNCONFIRMED)."""
        ordered = sorted(pages, key=lambda p: p.seq, reverse=True)
        if sorts is None:
            return ordered
        specs = [
            self._sort_key(source, spec, f"body.sorts[{i}]")
            for i, spec in enumerate(_bounded_list(sorts, "body.sorts"))
        ]
        for key_of, descending in reversed(specs):
            present = [p for p in ordered if key_of(p) is not None]
            missing = [p for p in ordered if key_of(p) is None]
            ordered = sorted(present, key=key_of, reverse=descending) + missing
        return ordered

    def _sort_key(
        self, source: _DataSource, spec: Any, path: str
    ) -> tuple[Callable[[_Page], Any], bool]:
        if not isinstance(spec, dict) or spec.get("direction") not in ("ascending", "descending"):
            raise _refused(f"{path}.direction should be `ascending` or `descending`")
        descending = spec["direction"] == "descending"
        kind = spec.get("timestamp")
        if "property" in spec:
            prop = self._property(source.properties, spec["property"])
            if prop is None:
                raise _invalid(f"Could not find sort property with name or id: {spec['property']}")
            kind = prop["type"] if prop["type"] in READ_ONLY else None
        if kind == "created_time":  # ordering uses the exact times kept inside
            return (lambda page: page.created), descending
        if kind == "last_edited_time":
            return (lambda page: page.edited), descending
        if "property" not in spec:
            raise _refused(f"{path} should have a property or a timestamp")
        return self._property_sort_key(prop), descending

    def _property_sort_key(self, prop: dict[str, Any]) -> Callable[[_Page], Any]:
        """A comparable key, None when empty; options sort in schema order, text by case."""
        ptype, read = prop["type"], self._filter_value(prop)
        order = {o["name"]: i for i, o in enumerate(prop.get(ptype, {}).get("options", []))}

        def key(page: _Page) -> Any:
            value = read(page)
            if _is_empty(value):
                return None
            if FAMILY[ptype] in ("option", "options"):
                names = value if isinstance(value, list) else [value]
                return tuple(order.get(name, len(order)) for name in names)
            if isinstance(value, str):
                return value.lower()
            return tuple(value) if isinstance(value, list) else value

        return key

    # ----- blocks ----------------------------------------------------------------------
    def _block_parent(self, raw: str) -> tuple[str, str]:
        """The page or block that ``raw`` names, as (id, parent type for its children)."""
        block_id = _normal_id(raw, "path failed validation: path.block_id")
        if block_id in self._pages:
            return block_id, "page_id"
        if block_id in self._block_ids:
            return block_id, "block_id"
        raise _not_found("block", block_id)

    def _new_blocks(
        self, parent_id: str, parent_type: str, children: Any, path: str, depth: int
    ) -> list[dict]:
        """Blocks as Notion returns them, nested ones under ``_children`` until stored."""
        if children is None:
            raise _refused(f"{path} should be defined", UNDEFINED)
        return [
            self._new_block(parent_id, parent_type, block, f"{path}[{i}]", depth)
            for i, block in enumerate(_bounded_list(children, path))
        ]

    def _new_block(
        self, parent_id: str, parent_type: str, block: Any, path: str, depth: int
    ) -> dict:
        if not isinstance(block, dict):
            raise _refused(f"{path} should be an object", block)
        kind = block.get("type") or next((k for k in block if k != "object"), None)
        content = block.get(kind) if kind else None
        if not isinstance(content, dict):
            raise _refused(f"{path} should define a block type and its content")
        content = dict(content)
        if "rich_text" in content:
            content["rich_text"] = _rich_text(content["rich_text"], f"{path}.{kind}.rich_text")
        content.setdefault("color", "default")
        nested = content.pop("children", None)
        if nested is not None and depth >= MAX_BLOCK_DEPTH:
            raise _refused(f"{path}.{kind}.children should be not present", nested)
        now, bot = _iso(self.now()), {"object": "user", "id": self.bot["id"]}
        block_id = self._uuid()
        built = {
            "object": "block",
            "id": block_id,
            "parent": {"type": parent_type, parent_type: parent_id},
            "created_time": now,
            "last_edited_time": now,
            "created_by": bot,
            "last_edited_by": bot,
            "has_children": bool(nested),
            "archived": False,
            "in_trash": False,
            "type": kind,
            kind: content,
        }
        if nested:
            built["_children"] = self._new_blocks(
                block_id, "block_id", nested, f"{path}.{kind}.children", depth + 1
            )
        return built

    def _store_blocks(
        self, parent_id: str, blocks: list[dict], position: int | None = None
    ) -> None:
        siblings = self._children.setdefault(parent_id, [])
        at = len(siblings) if position is None else position
        siblings[at:at] = blocks
        for block in blocks:
            self._block_ids.add(block["id"])
            self._store_blocks(block["id"], block.pop("_children", []))

    # ----- JSON ------------------------------------------------------------------------
    def _stamps(self, record: _Record) -> dict[str, Any]:
        return {
            "created_time": _iso(record.created),
            "last_edited_time": _iso(record.edited),
            "created_by": {"object": "user", "id": record.created_by},
            "last_edited_by": {"object": "user", "id": record.edited_by},
            "archived": record.in_trash,
            "in_trash": record.in_trash,
        }

    def _page_json(self, page: _Page, only: list[str] | None = None) -> dict[str, Any]:
        properties = {
            name: self._value_json(page, prop)
            for name, prop in self._schema_of(page).items()
            if only is None or name in only or prop["id"] in only
        }
        return {
            "object": "page",
            "id": page.id,
            **self._stamps(page),
            "is_locked": False,
            "icon": None,
            "cover": None,
            "parent": dict(page.parent),
            "properties": properties,
            "url": self._url(self._title_of(page), page.id),
            "public_url": None,
        }

    def _value_json(self, page: _Page, prop: dict[str, Any]) -> dict[str, Any]:
        ptype = prop["type"]
        if ptype == "created_time":
            value: Any = _iso(page.created)
        elif ptype == "last_edited_time":
            value = _iso(page.edited)
        else:
            value = copy.deepcopy(page.values.get(prop["id"], _empty_value(ptype)))
        shown = {"id": prop["id"], "type": ptype, ptype: value}
        return {**shown, "has_more": False} if ptype == "relation" else shown

    def _source_json(self, source: _DataSource) -> dict[str, Any]:
        database = self._databases[source.database_id]
        return {
            "object": "data_source",
            "id": source.id,
            **self._stamps(source),
            "title": copy.deepcopy(source.title),
            "description": [],
            "icon": None,
            "cover": None,
            "properties": copy.deepcopy(source.properties),
            "parent": {"type": "database_id", "database_id": database.id},
            "database_parent": dict(database.parent),
            "url": self._url(_plain_text(source.title), source.id),
            "public_url": None,
        }

    def _database_json(self, database: _Database) -> dict[str, Any]:
        sources = [self._sources[s] for s in database.source_ids]
        return {
            "object": "database",
            "id": database.id,
            **self._stamps(database),
            "title": copy.deepcopy(database.title),
            "description": copy.deepcopy(database.description),
            "icon": None,
            "cover": None,
            "parent": dict(database.parent),
            "is_inline": database.is_inline,
            "is_locked": database.is_locked,
            "data_sources": [{"id": s.id, "name": _plain_text(s.title)} for s in sources],
            "url": self._url(_plain_text(database.title), database.id),
            "public_url": None,
        }

    def _record_json(self, record: _Record) -> dict[str, Any]:
        if isinstance(record, _DataSource):
            return self._source_json(record)
        return self._page_json(record)

    @staticmethod
    def _url(title: str, object_id: str) -> str:
        slug = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-")
        return f"https://www.notion.so/{slug + '-' if slug else ''}{object_id.replace('-', '')}"

    def _search_kinds(self, spec: Any) -> set[str]:
        if spec is None:
            return {"page", "data_source"}
        value = spec.get("value") if isinstance(spec, dict) else None
        if value not in ("page", "data_source"):
            # "database" was the pre-2025-09-03 value (UNCONFIRMED that it is refused now).
            raise _refused('body.filter.value should be `"page"` or `"data_source"`', value)
        return {value}

    # ----- webhooks --------------------------------------------------------------------
    def _notify(self, event_type: str, page: _Page, person: dict[str, Any], **data: Any) -> None:
        """Tell the webhook subscription, if any, that a person changed a page."""
        if self._webhooks is None:
            return
        if "data_source_id" in page.parent:
            parent = {
                "id": page.parent["database_id"],
                "type": "database",
                "data_source_id": page.parent["data_source_id"],
            }
        elif "page_id" in page.parent:
            parent = {"id": page.parent["page_id"], "type": "page"}
        else:
            parent = {"id": self.workspace_id, "type": "space"}
        self._webhooks.on_change(
            event_type,
            entity={"id": page.id, "type": "page"},
            data={"parent": parent, **data},
            authors=[{"id": person["id"], "type": "person"}],
            timestamp=iso_millis(self.now()),
        )

"""Notion through notion-client (API 2025-09-03): databases, their data sources, pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
from notion_client import Client
from notion_client.errors import HTTPResponseError, RequestTimeoutError

from connectors.calls import Caller, RateLimiter
from connectors.errors import ConnectorError, NotFound, Permanent, RateLimited, Transient
from connectors.retry_after import retry_after

SERVICE = "notion"
NOTION_VERSION = "2025-09-03"
PAGE_SIZE = 100
OVERLOADED = 529  # service_overload


def translate(exc: Exception) -> ConnectorError | None:
    """Notion's failures in our terms (codes from its status-codes page).

    Its request-limits page (https://developers.notion.com/reference/request-limits) says to
    handle 429 and 529 (``service_overload``) alike and respect Retry-After. The SDK knows no
    ``service_overload`` code, so a 529 comes as its UnknownHTTPResponseError: both are read
    through their common base, HTTPResponseError.
    """
    if isinstance(exc, RequestTimeoutError | httpx.TransportError):
        return Transient(SERVICE, f"{type(exc).__name__}: {exc}")
    if not isinstance(exc, HTTPResponseError):
        return None
    asked = retry_after(exc.headers)
    text = f"{exc.status} {exc.code}: {exc}"
    if exc.status in (429, OVERLOADED):
        return RateLimited(SERVICE, text, asked)
    if exc.status >= 500 or exc.code == "conflict_error":
        return Transient(SERVICE, text, asked)
    if exc.status == 404:
        return NotFound(SERVICE, f"{text} (is the page or database shared with the integration?)")
    return Permanent(SERVICE, text)


class NotionConnector:
    """Creates and finds the onboarding's pages; one call path under Notion's 3 requests/s."""

    def __init__(
        self, token: str, base_url: str, rate_per_second: float = 3.0, **caller_options: Any
    ) -> None:
        self.client = Client(
            auth=token,
            base_url=base_url.rstrip("/"),
            notion_version=NOTION_VERSION,
            timeout_ms=30_000,
            retry=False,  # our Caller retries, honoring Retry-After, for every method
        )
        self.call = Caller(
            SERVICE, RateLimiter(rate_per_second, burst=1), translate, **caller_options
        )

    def sole_data_source_id(self, database_id: str) -> str:
        """The database's data source, when it has exactly one (where pages live since
        2025-09-03). With several, which one is ours cannot be guessed: a person must name it."""
        database = self.call(
            "read database", lambda: self.client.databases.retrieve(database_id=database_id)
        )
        sources = database.get("data_sources") or []
        if len(sources) != 1:
            raise Permanent(
                SERVICE,
                f"database {database_id} has {len(sources)} data sources: set the data source"
                " id the app owns (`flask setup` printed it) instead of guessing",
            )
        return sources[0]["id"]

    def data_source(self, data_source_id: str) -> dict[str, Any]:
        return self.call(
            "read data source",
            lambda: self.client.data_sources.retrieve(data_source_id=data_source_id),
        )

    def create_database(
        self, parent_page_id: str, title: str, properties: dict[str, Any]
    ) -> tuple[str, str]:
        """Create a database under a page; returns (database id, data source id)."""
        database = self.call(
            "create database",
            lambda: self.client.databases.create(
                parent={"type": "page_id", "page_id": parent_page_id},
                title=[{"type": "text", "text": {"content": title}}],
                initial_data_source={"properties": properties},
            ),
        )
        return database["id"], database["data_sources"][0]["id"]

    def query(
        self,
        data_source_id: str,
        filter: dict[str, Any] | None = None,
        sorts: list[dict[str, Any]] | None = None,
        in_trash: bool = False,
    ) -> Iterator[dict]:
        """Every page matching ``filter``, following Notion's cursor 100 pages at a time.

        ``in_trash`` also returns trashed pages (a CSM deleting a task must be seen too).
        """
        cursor: str | None = None
        while True:
            body: dict[str, Any] = {"page_size": PAGE_SIZE}
            if filter:
                body["filter"] = filter
            if sorts:
                body["sorts"] = sorts
            if in_trash:
                body["in_trash"] = True
            if cursor:
                body["start_cursor"] = cursor
            answer = self.call(
                "query",
                lambda b=body: self.client.data_sources.query(data_source_id=data_source_id, **b),
            )
            yield from answer["results"]
            if not answer.get("has_more"):
                return
            cursor = answer["next_cursor"]

    def find_by_text(self, data_source_id: str, prop: str, value: str) -> dict[str, Any] | None:
        """The first page whose rich-text property equals ``value`` (our idempotency keys)."""
        pages = self.query(data_source_id, {"property": prop, "rich_text": {"equals": value}})
        return next(iter(pages), None)

    def create_page(self, data_source_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        return self.call(
            "create page",
            lambda: self.client.pages.create(
                parent={"type": "data_source_id", "data_source_id": data_source_id},
                properties=properties,
            ),
        )

    def update_page(self, page_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        return self.call(
            "update page",
            lambda: self.client.pages.update(page_id=page_id, properties=properties),
        )

    def retrieve_page(self, page_id: str) -> dict[str, Any]:
        return self.call("read page", lambda: self.client.pages.retrieve(page_id=page_id))

    def me(self) -> dict[str, Any]:
        return self.call("who am I", lambda: self.client.users.me())


def plain_value(prop: dict[str, Any] | None) -> Any:
    """A page property's value as plain Python: text joined, a date's start, a select's name."""
    if not prop:
        return None
    kind = prop.get("type")
    value = prop.get(kind)
    if kind in ("title", "rich_text"):
        return "".join(part.get("plain_text", "") for part in value or [])
    if kind in ("select", "status"):
        return value.get("name") if value else None
    if kind == "multi_select":
        return [option["name"] for option in value or []]
    if kind == "date":
        return value.get("start") if value else None
    if kind == "relation":
        return [link["id"] for link in value or []]
    return value


def property_value(kind: str, value: Any) -> dict[str, Any]:
    """A page property value in Notion's wire shape, from a plain Python value."""
    if kind in ("title", "rich_text"):
        text = "" if value is None else str(value)[:2000]
        return {kind: [{"type": "text", "text": {"content": text}}] if text else []}
    if kind in ("select", "status"):
        return {kind: {"name": str(value)[:100]} if value else None}
    if kind == "multi_select":
        return {kind: [{"name": str(v)[:100]} for v in value or []]}
    if kind == "number":
        return {kind: None if value in (None, "") else float(value)}
    if kind in ("url", "email"):
        return {kind: str(value) if value else None}
    if kind == "date":
        start = value if isinstance(value, str) else value.isoformat() if value else None
        return {kind: {"start": start} if start else None}
    if kind == "checkbox":
        if isinstance(value, str):
            return {kind: value.strip().lower() in ("yes", "true", "1", "y")}
        return {kind: bool(value)}
    if kind == "relation":
        return {kind: [{"id": page_id} for page_id in value or []]}
    raise ValueError(f"unsupported Notion property type {kind!r}")

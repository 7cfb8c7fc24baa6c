"""The HTTP API: werkzeug URL rules and thin handlers that answer in Notion's JSON."""

from __future__ import annotations

import copy
import functools
import uuid
from collections.abc import Callable
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox.notion.databases import Databases
from sandbox.notion.errors import NotionError
from sandbox.notion.pages import Pages
from sandbox.notion.query import Querying
from sandbox.notion.rendering import Rendering
from sandbox.notion.wire import list_object, query_list, read_body


def endpoint(handler: Callable[..., dict[str, Any]]) -> Callable[..., Response]:
    """Run a handler under the state lock; answer its payload, or Notion's error body."""

    @functools.wraps(handler)
    def run(self: NotionRoutes, request: Request, **args: Any) -> Response:
        try:
            with self.lock:
                payload = handler(self, request, **args)
        except NotionError as exc:
            return self.error(exc.status, exc.code, exc.message)
        return self.json({**payload, "request_id": self.request_id()})

    return run


def filter_properties(request: Request) -> list[str] | None:
    """The properties a page answer is limited to; None for all of them."""
    return request.args.getlist("filter_properties") or None


class NotionRoutes(Databases, Querying, Pages, Rendering):
    """Each handler reads its request, asks the concern that owns the records, renders."""

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

    def request_id(self) -> str:
        return str(uuid.uuid4())

    # ----- users -----------------------------------------------------------------------
    @endpoint
    def list_users(self, request: Request) -> dict[str, Any]:
        users = sorted(self.users.values(), key=lambda u: u["type"] == "bot")
        return query_list(request.args, users, "user")

    @endpoint
    def get_me(self, request: Request) -> dict[str, Any]:
        return copy.deepcopy(self.bot)

    @endpoint
    def get_user(self, request: Request, user_id: str) -> dict[str, Any]:
        path = "path failed validation: path.user_id"
        return copy.deepcopy(self._lookup(self.users, "user", user_id, path))

    # ----- databases and data sources --------------------------------------------------
    @endpoint
    def create_database(self, request: Request) -> dict[str, Any]:
        return self._database_json(self._create_database(read_body(request)))

    @endpoint
    def get_database(self, request: Request, database_id: str) -> dict[str, Any]:
        return self._database_json(self._database(database_id))

    @endpoint
    def update_database(self, request: Request, database_id: str) -> dict[str, Any]:
        database = self._database(database_id)
        self._update_database(database, read_body(request))
        return self._database_json(database)

    @endpoint
    def get_data_source(self, request: Request, source_id: str) -> dict[str, Any]:
        return self._source_json(self._source(source_id))

    @endpoint
    def update_data_source(self, request: Request, source_id: str) -> dict[str, Any]:
        source = self._source(source_id)
        self._update_data_source(source, read_body(request))
        return self._source_json(source)

    @endpoint
    def query_data_source(self, request: Request, source_id: str) -> dict[str, Any]:
        source = self._source(source_id)
        chunk, cursor = self._query(source, read_body(request))
        only = filter_properties(request)
        return list_object([self._page_json(p, only) for p in chunk], cursor, "page_or_data_source")

    # ----- pages and their blocks ------------------------------------------------------
    @endpoint
    def create_page(self, request: Request) -> dict[str, Any]:
        return self._page_json(self._create_page(read_body(request)))

    @endpoint
    def get_page(self, request: Request, page_id: str) -> dict[str, Any]:
        return self._page_json(self._page(page_id), filter_properties(request))

    @endpoint
    def update_page(self, request: Request, page_id: str) -> dict[str, Any]:
        page = self._page(page_id)
        self._update_page(page, read_body(request))
        return self._page_json(page)

    @endpoint
    def append_children(self, request: Request, block_id: str) -> dict[str, Any]:
        parent_id, parent_type = self._block_parent(block_id)
        blocks = self._append_children(parent_id, parent_type, read_body(request))
        return list_object(copy.deepcopy(blocks), None, "block")

    @endpoint
    def list_children(self, request: Request, block_id: str) -> dict[str, Any]:
        parent_id, _ = self._block_parent(block_id)
        return query_list(request.args, self._children.get(parent_id, []), "block")

    # ----- search ----------------------------------------------------------------------
    @endpoint
    def search(self, request: Request) -> dict[str, Any]:
        chunk, cursor = self._search(read_body(request))
        return list_object([self._record_json(r) for r in chunk], cursor, "page_or_data_source")

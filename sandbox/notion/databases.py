"""Databases and the data sources inside them: creating them under a page, and updating them."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.notion.errors import UNDEFINED, refused
from sandbox.notion.records import Database, DataSource
from sandbox.notion.schema import Schemas
from sandbox.notion.text import rich_text
from sandbox.notion.wire import trash_flag


class Databases(Schemas):
    """A database is a container; its one data source holds the schema and the pages."""

    def _create_database(self, body: dict[str, Any]) -> Database:
        parent = self._database_parent(body.get("parent"))
        title = rich_text(body.get("title") or [], "body.title")
        initial = body.get("initial_data_source") or {}
        # Without initial_data_source we give the one-title-column table the Notion UI makes
        # (UNCONFIRMED; tolerant rather than a 400).
        properties = initial.get("properties", {"Name": {"title": {}}})
        schema = self._new_schema(properties, "body.initial_data_source.properties")
        now, bot = self.now(), self.bot["id"]
        stamps = {"created": now, "edited": now, "created_by": bot, "edited_by": bot}
        database = Database(id=self._uuid(), parent=parent, title=title, **stamps)
        database.description = rich_text(body.get("description") or [], "body.description")
        database.is_inline = bool(body.get("is_inline", False))
        source = DataSource(
            id=self._uuid(),
            database_id=database.id,
            title=copy.deepcopy(title),
            properties=schema,
            **stamps,
        )
        database.source_ids.append(source.id)
        self._databases[database.id] = database
        self._sources[source.id] = source
        return database

    def _database_parent(self, parent: Any) -> dict[str, Any]:
        if not isinstance(parent, dict) or "page_id" not in parent:
            raise refused("body.parent.page_id should be defined", UNDEFINED)
        page = self._page(parent["page_id"], "body failed validation: body.parent.page_id")
        return {"type": "page_id", "page_id": page.id}

    def _update_database(self, database: Database, body: dict[str, Any]) -> None:
        if "title" in body:
            database.title = rich_text(body["title"], "body.title")
        if "description" in body:
            database.description = rich_text(body["description"], "body.description")
        for flag in ("is_inline", "is_locked"):
            if flag in body:
                setattr(database, flag, bool(body[flag]))
        trash = trash_flag(body)
        if trash is not None:
            database.in_trash = trash
        database.touch(self.now(), self.bot["id"])

    def _update_data_source(self, source: DataSource, body: dict[str, Any]) -> None:
        if "title" in body:
            source.title = rich_text(body["title"], "body.title")
        if body.get("properties") is not None:
            self._change_schema(source, body["properties"], "body.properties")
        trash = trash_flag(body)
        if trash is not None:
            source.in_trash = trash
        source.touch(self.now(), self.bot["id"])

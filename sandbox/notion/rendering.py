"""Pages, data sources and databases as the API returns them, times rounded to the minute."""

from __future__ import annotations

import copy
import re
from typing import Any

from sandbox.notion.records import Database, DataSource, Page, Record, RecordStore
from sandbox.notion.text import plain_text
from sandbox.notion.values import empty_value
from sandbox.notion.wire import iso


def notion_url(title: str, object_id: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-")
    return f"https://www.notion.so/{slug + '-' if slug else ''}{object_id.replace('-', '')}"


class Rendering(RecordStore):
    """Turns stored records into the JSON objects Notion answers with."""

    def _stamps(self, record: Record) -> dict[str, Any]:
        return {
            "created_time": iso(record.created),
            "last_edited_time": iso(record.edited),
            "created_by": {"object": "user", "id": record.created_by},
            "last_edited_by": {"object": "user", "id": record.edited_by},
            "archived": record.in_trash,
            "in_trash": record.in_trash,
        }

    def _page_json(self, page: Page, only: list[str] | None = None) -> dict[str, Any]:
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
            "url": notion_url(self._title_of(page), page.id),
            "public_url": None,
        }

    def _value_json(self, page: Page, prop: dict[str, Any]) -> dict[str, Any]:
        ptype = prop["type"]
        if ptype == "created_time":
            value: Any = iso(page.created)
        elif ptype == "last_edited_time":
            value = iso(page.edited)
        else:
            value = copy.deepcopy(page.values.get(prop["id"], empty_value(ptype)))
        shown = {"id": prop["id"], "type": ptype, ptype: value}
        return {**shown, "has_more": False} if ptype == "relation" else shown

    def _source_json(self, source: DataSource) -> dict[str, Any]:
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
            "url": notion_url(plain_text(source.title), source.id),
            "public_url": None,
        }

    def _database_json(self, database: Database) -> dict[str, Any]:
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
            "data_sources": [{"id": s.id, "name": plain_text(s.title)} for s in sources],
            "url": notion_url(plain_text(database.title), database.id),
            "public_url": None,
        }

    def _record_json(self, record: Record) -> dict[str, Any]:
        if isinstance(record, DataSource):
            return self._source_json(record)
        return self._page_json(record)

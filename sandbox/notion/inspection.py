"""What tests read of the workspace from Python, and what the sandbox state page shows."""

from __future__ import annotations

from typing import Any

from sandbox.notion.actors import Actors
from sandbox.notion.records import Database, DataSource, Page
from sandbox.notion.text import plain_text
from sandbox.notion.values import empty_value, is_empty, plain


class Inspection(Actors):
    """Read-only views of the records, taken under the lock without an HTTP call."""

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

    def _database_state(self, database: Database) -> dict[str, Any]:
        return {
            "id": database.id,
            "title": plain_text(database.title),
            "in_trash": database.in_trash,
            "data_sources": [self._source_state(self._sources[s]) for s in database.source_ids],
        }

    def _source_state(self, source: DataSource) -> dict[str, Any]:
        pages = [p for p in self._pages.values() if p.parent.get("data_source_id") == source.id]
        return {
            "id": source.id,
            "name": plain_text(source.title),
            "pages": [self._page_state(p) for p in pages],
        }

    def _page_state(self, page: Page) -> dict[str, Any]:
        values = {}
        for name, prop in self._schema_of(page).items():
            raw = page.values.get(prop["id"], empty_value(prop["type"]))
            value = (
                [u["name"] for u in raw] if prop["type"] == "people" else plain(prop["type"], raw)
            )
            if prop["type"] != "title" and not is_empty(value):
                values[name] = value
        return {
            "id": page.id,
            "title": self._title_of(page),
            "in_trash": page.in_trash,
            "values": values,
        }

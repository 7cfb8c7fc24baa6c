"""The emulator's store: pages, data sources, databases and users, and their lookups by id."""

from __future__ import annotations

import itertools
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sandbox.core import Emulator
from sandbox.notion.errors import invalid, not_found
from sandbox.notion.text import plain_text
from sandbox.notion.wire import normal_id

# A page whose parent is a page or the workspace has only a title.
PAGE_SCHEMA = {"title": {"id": "title", "name": "title", "type": "title", "title": {}}}


@dataclass(kw_only=True)
class Record:
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
class Page(Record):
    parent: dict[str, Any]
    values: dict[str, Any]  # property id -> the type's value, as Notion returns it
    seq: int


@dataclass(kw_only=True)
class DataSource(Record):
    database_id: str
    title: list[dict[str, Any]]
    properties: dict[str, dict[str, Any]]  # property name -> schema object


@dataclass(kw_only=True)
class Database(Record):
    parent: dict[str, Any]
    title: list[dict[str, Any]]
    description: list[dict[str, Any]] = field(default_factory=list)
    is_inline: bool = False
    is_locked: bool = False
    source_ids: list[str] = field(default_factory=list)


def find_property(schema: dict[str, dict[str, Any]], key: Any) -> dict[str, Any] | None:
    """A property by name or by id, as Notion accepts either."""
    if key in schema:
        return schema[key]
    return next((p for p in schema.values() if p["id"] == key), None)


class RecordStore(Emulator):
    """The state every concern of the emulator shares, and lookups answering Notion's 404."""

    seed: int

    def _reset_records(self) -> None:
        """An empty workspace with its integration bot and its owner, ids drawn from the seed."""
        self._random = random.Random(self.seed)
        self._seq = itertools.count(1)
        self.workspace_id = self._uuid()
        self._pages: dict[str, Page] = {}
        self._sources: dict[str, DataSource] = {}
        self._databases: dict[str, Database] = {}
        # Bumped by every write, so caches of query results know when they are stale.
        self._changes = 0
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

    def _changed(self) -> None:
        """Something was written: cached query orders are stale."""
        with self.lock:
            self._changes += 1

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def _lookup(self, table: dict[str, Any], kind: str, raw: Any, path: str) -> Any:
        object_id = normal_id(raw, path)
        if object_id not in table:
            raise not_found(kind, object_id)
        return table[object_id]

    def _page(self, raw: Any, path: str = "path failed validation: path.page_id") -> Page:
        return self._lookup(self._pages, "page", raw, path)

    def _source(
        self, raw: Any, path: str = "path failed validation: path.data_source_id"
    ) -> DataSource:
        return self._lookup(self._sources, "data source", raw, path)

    def _database(
        self, raw: Any, path: str = "path failed validation: path.database_id"
    ) -> Database:
        return self._lookup(self._databases, "database", raw, path)

    def _person(self, user_id: str | None) -> dict[str, Any]:
        person = (
            self.owner if user_id is None else self._lookup(self.users, "user", user_id, "user_id")
        )
        if person["type"] != "person":
            raise invalid(f"User {person['id']} is not a person.")
        return person

    def _add_person(self, name: str, email: str, user_id: str | None) -> dict[str, Any]:
        user_id = normal_id(user_id, "id") if user_id else self._uuid()
        self.users[user_id] = {
            "object": "user",
            "id": user_id,
            "name": name,
            "avatar_url": None,
            "type": "person",
            "person": {"email": email},
        }
        return self.users[user_id]

    def _schema_of(self, page: Page) -> dict[str, dict[str, Any]]:
        source_id = page.parent.get("data_source_id")
        return self._sources[source_id].properties if source_id else PAGE_SCHEMA

    def _title_of(self, record: Record) -> str:
        if isinstance(record, DataSource):
            return plain_text(record.title)
        title = next(p for p in self._schema_of(record).values() if p["type"] == "title")
        return plain_text(record.values.get(title["id"], []))

"""Acting on the workspace outside the API: seeding it, people's edits, and their webhooks."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.core import command, iso_millis
from sandbox.notion.pages import Pages
from sandbox.notion.records import DataSource, Page
from sandbox.notion.rendering import Rendering
from sandbox.notion.text import rich_text
from sandbox.notion.webhooks import NotionWebhookSender


class Actors(Pages, Rendering):
    """Sandbox commands for what tests and demos make happen in Notion besides the app."""

    def _reset_webhooks(self) -> None:
        self._webhooks: NotionWebhookSender | None = None

    @property
    def webhooks(self) -> NotionWebhookSender | None:
        return self._webhooks

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
            page = Page(
                id=self._uuid(),
                parent={"type": "workspace", "workspace": True},
                values={"title": rich_text([{"text": {"content": title}}], "title")},
                seq=next(self._seq),
                created=now,
                edited=now,
                created_by=person,
                edited_by=person,
            )
            self._pages[page.id] = page
            return self._page_json(page)

    @command
    def add_data_source_as_user(
        self, database_id: str, title: str, properties: dict[str, Any]
    ) -> dict[str, Any]:
        """A person adds another data source (table) to a database, first in its list, as the
        Notion UI may order them: an app that takes "the first" source now writes elsewhere."""
        self._changed()
        with self.lock:
            database = self._database(database_id)
            now, person = self.now(), self.owner["id"]
            source = DataSource(
                id=self._uuid(),
                database_id=database.id,
                title=rich_text([{"text": {"content": title}}], "title"),
                properties=self._new_schema(properties, "properties"),
                created=now,
                edited=now,
                created_by=person,
                edited_by=person,
            )
            database.source_ids.insert(0, source.id)
            self._sources[source.id] = source
            return self._source_json(source)

    @command
    def seed_page(self, data_source_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        """A page made by the integration without an HTTP call (bulk set-ups for benchmarks)."""
        self._changed()
        with self.lock:
            parent = {"type": "data_source_id", "data_source_id": data_source_id}
            return self._page_json(self._create_page({"parent": parent, "properties": properties}))

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

    def _notify(self, event_type: str, page: Page, person: dict[str, Any], **data: Any) -> None:
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

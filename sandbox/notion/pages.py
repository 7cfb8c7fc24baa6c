"""Pages the integration creates and updates: their parent, property values and first blocks."""

from __future__ import annotations

from typing import Any

from sandbox.notion.blocks import Blocks
from sandbox.notion.errors import EDITING_ARCHIVED, UNDEFINED, invalid, refused
from sandbox.notion.records import PAGE_SCHEMA, Page
from sandbox.notion.values import PropertyValues
from sandbox.notion.wire import trash_flag


class Pages(PropertyValues, Blocks):
    """A page lives in a data source (following its schema) or under a page (title only)."""

    def _create_page(self, body: dict[str, Any]) -> Page:
        parent, schema = self._page_parent(body.get("parent"))
        values = self._written_values(schema, body.get("properties") or {}, "body.properties")
        now, bot = self.now(), self.bot["id"]
        page = Page(
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
        return page

    def _update_page(self, page: Page, body: dict[str, Any]) -> None:
        """Restore from the trash first, so a restored page takes new values in one call."""
        trash = trash_flag(body)
        if trash is False:
            page.in_trash = False
        if body.get("properties"):
            self._edit(page, body["properties"], "body.properties", self.bot["id"])
        if trash is not None:
            page.in_trash = trash
        page.touch(self.now(), self.bot["id"])

    def _page_parent(self, parent: Any) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        """The page's parent as Notion returns it, and the schema its properties follow."""
        if not isinstance(parent, dict):
            raise refused("body.parent should be defined", UNDEFINED)
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
                raise invalid(
                    "Database has more than one data source: use a data_source_id parent."
                )
            source = self._sources[database.source_ids[0]]
        elif "page_id" in parent:
            page = self._page(parent["page_id"], "body failed validation: body.parent.page_id")
            return {"type": "page_id", "page_id": page.id}, PAGE_SCHEMA
        else:
            raise refused(
                "body.parent should have a data_source_id, database_id or page_id", parent
            )
        if source.in_trash:
            raise invalid(EDITING_ARCHIVED)
        parent = {
            "type": "data_source_id",
            "data_source_id": source.id,
            "database_id": source.database_id,
        }
        return parent, source.properties

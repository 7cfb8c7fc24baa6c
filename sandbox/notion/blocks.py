"""Block children of pages and blocks: built as Notion returns them, nested two levels deep."""

from __future__ import annotations

from typing import Any

from sandbox.notion.errors import UNDEFINED, not_found, refused
from sandbox.notion.records import RecordStore
from sandbox.notion.text import bounded_list, rich_text
from sandbox.notion.wire import iso, normal_id

MAX_BLOCK_DEPTH = 2


class Blocks(RecordStore):
    """Keeps each page's and block's children in order, as the integration appends them."""

    def _reset_blocks(self) -> None:
        self._children: dict[str, list[dict[str, Any]]] = {}  # page or block id -> blocks
        self._block_ids: set[str] = set()

    def _block_parent(self, raw: str) -> tuple[str, str]:
        """The page or block that ``raw`` names, as (id, parent type for its children)."""
        block_id = normal_id(raw, "path failed validation: path.block_id")
        if block_id in self._pages:
            return block_id, "page_id"
        if block_id in self._block_ids:
            return block_id, "block_id"
        raise not_found("block", block_id)

    def _append_children(
        self, parent_id: str, parent_type: str, body: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Store ``body.children`` at the end, or right after the sibling ``body.after``."""
        blocks = self._new_blocks(parent_id, parent_type, body.get("children"), "body.children", 1)
        after = body.get("after")
        position = None
        if after is not None:
            siblings = [b["id"] for b in self._children.get(parent_id, [])]
            after = normal_id(after, "body failed validation: body.after")
            if after not in siblings:
                raise not_found("block", after)
            position = siblings.index(after) + 1
        self._store_blocks(parent_id, blocks, position)
        page = self._pages.get(parent_id)
        if page is not None:
            page.touch(self.now(), self.bot["id"])
        return blocks

    def _new_blocks(
        self, parent_id: str, parent_type: str, children: Any, path: str, depth: int
    ) -> list[dict]:
        """Blocks as Notion returns them, nested ones under ``_children`` until stored."""
        if children is None:
            raise refused(f"{path} should be defined", UNDEFINED)
        return [
            self._new_block(parent_id, parent_type, block, f"{path}[{i}]", depth)
            for i, block in enumerate(bounded_list(children, path))
        ]

    def _new_block(
        self, parent_id: str, parent_type: str, block: Any, path: str, depth: int
    ) -> dict:
        if not isinstance(block, dict):
            raise refused(f"{path} should be an object", block)
        kind = block.get("type") or next((k for k in block if k != "object"), None)
        content = block.get(kind) if kind else None
        if not isinstance(content, dict):
            raise refused(f"{path} should define a block type and its content")
        content = dict(content)
        if "rich_text" in content:
            content["rich_text"] = rich_text(content["rich_text"], f"{path}.{kind}.rich_text")
        content.setdefault("color", "default")
        nested = content.pop("children", None)
        if nested is not None and depth >= MAX_BLOCK_DEPTH:
            raise refused(f"{path}.{kind}.children should be not present", nested)
        now, bot = iso(self.now()), {"object": "user", "id": self.bot["id"]}
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

"""Typed property values: validated as Notion does when written, and read back plainly."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.notion.errors import EDITING_ARCHIVED, UNDEFINED, invalid, refused
from sandbox.notion.records import Page, find_property
from sandbox.notion.schema import READ_ONLY, Schemas
from sandbox.notion.text import (
    MAX_EMAIL,
    MAX_URL,
    bounded_list,
    bounded_text,
    plain_text,
    rich_text,
)
from sandbox.notion.wire import normal_id, parse_moment

LIST_TYPES = {"title", "rich_text", "multi_select", "people", "relation"}


def plain(ptype: str, value: Any) -> Any:
    """A property value reduced to what a person reads: text, number, names or ids."""
    if ptype in ("title", "rich_text"):
        return plain_text(value)
    if ptype in ("select", "status"):
        return value["name"] if value else None
    if ptype == "multi_select":
        return [option["name"] for option in value]
    if ptype == "date":
        return value["start"] if value else None
    if ptype in ("people", "relation"):
        return [item["id"] for item in value]
    return value


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def empty_value(ptype: str) -> Any:
    """What a property that was never written holds."""
    if ptype in LIST_TYPES:
        return []
    return False if ptype == "checkbox" else None


def option_value(option: dict[str, Any]) -> dict[str, Any]:
    return {"id": option["id"], "name": option["name"], "color": option["color"]}


def date_value(raw: Any, path: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or "start" not in raw:
        raise refused(f"{path}.start should be defined", UNDEFINED)
    parse_moment(raw["start"], f"{path}.start")
    if raw.get("end") is not None:
        parse_moment(raw["end"], f"{path}.end")
    return {"start": raw["start"], "end": raw.get("end"), "time_zone": raw.get("time_zone")}


class PropertyValues(Schemas):
    """Writes page property values, refusing bad ones with Notion's ``validation_error``."""

    def _defaults(self, schema: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """Values a new page gets unasked: a status starts at its first option."""
        return {
            p["id"]: copy.deepcopy(option_value(p["status"]["options"][0]))
            for p in schema.values()
            if p["type"] == "status" and p["status"]["options"]
        }

    def _edit(self, page: Page, properties: Any, path: str, user_id: str) -> list[str]:
        """Write property values on a live page; returns the ids of those written."""
        if page.in_trash:
            raise invalid(EDITING_ARCHIVED)
        values = self._written_values(self._schema_of(page), properties, path)
        page.values.update(values)
        return list(values)

    def _written_values(
        self, schema: dict[str, dict[str, Any]], properties: Any, path: str
    ) -> dict[str, Any]:
        """Validate every given value first, then return them by property id."""
        if not isinstance(properties, dict):
            raise refused(f"{path} should be an object", properties)
        written = {}
        for key, value in properties.items():
            prop = find_property(schema, key)
            if prop is None:
                raise invalid(f"{key} is not a property that exists.")
            written[prop["id"]] = self._value(prop, value, f"{path}.{key}")
        return written

    def _value(self, prop: dict[str, Any], value: Any, path: str) -> Any:
        ptype, name = prop["type"], prop["name"]
        if ptype in READ_ONLY:
            raise invalid(f"{name} is a {ptype} property, which cannot be written.")
        if not isinstance(value, dict) or ptype not in value:
            raise invalid(f"{name} is expected to be {ptype}.")
        raw, path = value[ptype], f"{path}.{ptype}"
        if ptype in ("title", "rich_text"):
            return rich_text(raw, path)
        if ptype in ("url", "email"):
            return bounded_text(raw, path, MAX_URL if ptype == "url" else MAX_EMAIL)
        if ptype == "number":
            if raw is not None and (isinstance(raw, bool) or not isinstance(raw, int | float)):
                raise refused(f"{path} should be a number or `null`", raw)
            return raw
        if ptype == "checkbox":
            if not isinstance(raw, bool):
                raise refused(f"{path} should be a boolean", raw)
            return raw
        if ptype == "multi_select":
            return [
                self._chosen(prop, item, f"{path}[{i}]")
                for i, item in enumerate(bounded_list(raw, path))
            ]
        if ptype in ("select", "status"):
            return None if raw is None else self._chosen(prop, raw, path)
        if ptype == "date":
            return None if raw is None else date_value(raw, path)
        items = bounded_list(raw, path)
        return [self._reference(ptype, item, f"{path}[{i}]") for i, item in enumerate(items)]

    def _reference(self, ptype: str, item: Any, path: str) -> dict[str, Any]:
        """A people or relation item: the user or page it names must exist."""
        raw = item.get("id") if isinstance(item, dict) else item
        object_id = normal_id(raw, f"body failed validation: {path}.id")
        table, kind = (self.users, "user") if ptype == "people" else (self._pages, "page")
        if object_id not in table:
            raise invalid(f"Could not find {kind} with ID: {object_id}.")
        return copy.deepcopy(self.users[object_id]) if ptype == "people" else {"id": object_id}

    def _chosen(self, prop: dict[str, Any], ref: Any, path: str) -> dict[str, Any]:
        """The option a select, multi_select or status value names; select adds new names."""
        if not isinstance(ref, dict) or not ({"id", "name"} & ref.keys()):
            raise refused(f"{path} should be an object with a name or an id", ref)
        ptype = prop["type"]
        options = prop[ptype]["options"]
        found = next(
            (o for o in options if o["id"] == ref.get("id") or o["name"] == ref.get("name")), None
        )
        if found is not None:
            return option_value(found)
        if ptype == "status" or "name" not in ref:
            label = ref.get("name", ref.get("id"))
            raise invalid(
                f'Invalid {ptype} option. {ptype.capitalize()} option "{label}" '
                f"does not exist for {prop['name']}."
            )
        # A new select/multi_select name creates the option (UNCONFIRMED detail: colour default).
        options.extend(self._options([ref], [], ptype))
        return option_value(options[-1])

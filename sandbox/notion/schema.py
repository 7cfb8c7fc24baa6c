"""Property schemas of data sources: types, ids, options, and changes made all or nothing."""

from __future__ import annotations

import string
from typing import Any
from urllib.parse import quote

from sandbox.notion.errors import UNDEFINED, invalid, refused
from sandbox.notion.records import DataSource, RecordStore, find_property
from sandbox.notion.text import bounded_list

PROPERTY_TYPES = (
    "title",
    "rich_text",
    "number",
    "select",
    "multi_select",
    "status",
    "date",
    "checkbox",
    "url",
    "email",
    "people",
    "relation",
    "created_time",
    "last_edited_time",
)
READ_ONLY = {"created_time", "last_edited_time"}
# Default status options and groups of a new status property. The API cannot set status
# options on create (UNCONFIRMED), so given options are ignored and these are used.
STATUS_OPTIONS = (
    ("Not started", "default", "To-do", "gray"),
    ("In progress", "blue", "In progress", "blue"),
    ("Done", "green", "Complete", "green"),
)


def config_type(config: Any, path: str, current: dict[str, Any] | None = None) -> str:
    """The property type a schema config names (its ``type`` or its one type key)."""
    if not isinstance(config, dict):
        raise refused(f"{path} should be an object")
    named = [config["type"]] if "type" in config else [k for k in config if k in PROPERTY_TYPES]
    if not named and current is not None:
        return current["type"]  # a rename or description change keeps the type
    if len(named) != 1 or named[0] not in PROPERTY_TYPES:
        raise refused(f"{path} should define one of the types {', '.join(PROPERTY_TYPES)}", config)
    return named[0]


def require_one_title(schema: dict[str, dict[str, Any]]) -> None:
    titles = [p for p in schema.values() if p["type"] == "title"]
    if len(titles) != 1:
        raise invalid(
            f"A data source must have exactly one title property, instead it has {len(titles)}."
        )


class Schemas(RecordStore):
    """Builds and changes the properties a data source's pages follow."""

    def _new_schema(self, properties: Any, path: str) -> dict[str, dict[str, Any]]:
        if not isinstance(properties, dict):
            raise refused(f"{path} should be an object")
        schema: dict[str, dict[str, Any]] = {}
        for name, config in properties.items():
            ptype = config_type(config, f"{path}.{name}")
            schema[name] = self._schema_property(name, ptype, config, schema, None)
        require_one_title(schema)
        return schema

    def _change_schema(self, source: DataSource, changes: Any, path: str) -> None:
        """Add, rename, retype or remove properties (``null`` removes), all or nothing."""
        if not isinstance(changes, dict):
            raise refused(f"{path} should be an object")
        schema = dict(source.properties)
        retyped: list[str] = []
        for key, change in changes.items():
            current = find_property(schema, key)
            if change is None:
                if current is None:
                    raise invalid(f"{key} is not a property that exists.")
                del schema[current["name"]]
                continue
            if not isinstance(change, dict):
                raise refused(f"{path}.{key} should be an object or `null`")
            name = change.get("name") or (current["name"] if current else key)
            ptype = config_type(change, f"{path}.{key}", current)
            if current is not None:
                del schema[current["name"]]
                if ptype != current["type"]:
                    retyped.append(current["id"])
            schema[name] = self._schema_property(name, ptype, change, schema, current)
        require_one_title(schema)
        source.properties = schema
        for page in self._pages.values():  # a retyped property starts empty
            if page.parent.get("data_source_id") == source.id:
                for property_id in retyped:
                    page.values.pop(property_id, None)

    def _schema_property(
        self,
        name: str,
        ptype: str,
        config: dict[str, Any],
        schema: dict[str, dict[str, Any]],
        current: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """A property as GET /v1/data_sources returns it, keeping ids across edits."""
        if ptype == "title":
            property_id = "title"
        elif current is not None:
            property_id = current["id"]
        else:
            property_id = self._property_id(schema)
        settings = config.get(ptype) or {}
        kept = current.get(ptype, {}) if current and current["type"] == ptype else {}
        built: dict[str, Any] = {"id": property_id, "name": name, "type": ptype}
        if "description" in config:
            built["description"] = config["description"]
        elif current and "description" in current:
            built["description"] = current["description"]
        if ptype in ("select", "multi_select"):
            options = settings.get("options", kept.get("options", []))
            built[ptype] = {"options": self._options(options, kept.get("options", []), ptype)}
        elif ptype == "status":
            built[ptype] = kept or self._status_config()
        elif ptype == "number":
            built[ptype] = {"format": settings.get("format", kept.get("format", "number"))}
        elif ptype == "relation":
            built[ptype] = kept if kept and not settings else self._relation_config(settings, name)
        else:
            built[ptype] = {}
        return built

    def _property_id(self, schema: dict[str, dict[str, Any]]) -> str:
        """A short, URL-encoded id like Notion's (``%3AUPp``), unique in its schema."""
        taken = {p["id"] for p in schema.values()}
        alphabet = string.ascii_letters + string.digits + ":;<=>?@[]^_`{|}~"
        while True:
            candidate = quote("".join(self._random.choices(alphabet, k=4)), safe="")
            if candidate not in taken and candidate != "title":
                return candidate

    def _options(self, given: Any, existing: list[dict[str, Any]], ptype: str) -> list[dict]:
        """Options by name, keeping the id and colour of those that already exist."""
        known = {o["name"]: o for o in existing}
        options = []
        for i, option in enumerate(bounded_list(given, f"body.{ptype}.options")):
            name = option.get("name") if isinstance(option, dict) else None
            if not isinstance(name, str) or not name or "," in name:
                raise refused(
                    f"body.{ptype}.options[{i}].name should be a non-empty string without commas"
                )
            previous = known.get(name) or {
                "id": self._uuid(),
                "color": "default",
                "description": None,
            }
            options.append(
                {**previous, "name": name, "color": option.get("color", previous["color"])}
            )
        return options

    def _status_config(self) -> dict[str, Any]:
        options, groups = [], []
        for name, color, group, group_color in STATUS_OPTIONS:
            option = {"id": self._uuid(), "name": name, "color": color, "description": None}
            options.append(option)
            groups.append(
                {
                    "id": self._uuid(),
                    "name": group,
                    "color": group_color,
                    "option_ids": [option["id"]],
                }
            )
        return {"options": options, "groups": groups}

    def _relation_config(self, settings: dict[str, Any], name: str) -> dict[str, Any]:
        # 2025-09-03 relations name a data_source_id. dual_property is accepted, but the
        # sandbox does not create the synced property on the other side.
        raw = settings.get("data_source_id")
        if raw is None:
            raise refused(
                f"body.properties.{name}.relation.data_source_id should be defined", UNDEFINED
            )
        target = self._source(
            raw, f"body failed validation: body.properties.{name}.relation.data_source_id"
        )
        kind = "dual_property" if "dual_property" in settings else "single_property"
        return {
            "data_source_id": target.id,
            "database_id": target.database_id,
            "type": kind,
            kind: {},
        }

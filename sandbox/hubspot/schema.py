"""Property definitions and groups: HubSpot's defaults per object type and the properties API."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.core import iso_millis
from sandbox.hubspot.account import OBJECT_TYPE_IDS, SINGULAR, canonical_type
from sandbox.hubspot.api import ApiError, api_handler, json_body


def _prop(
    name: str,
    label: str,
    type_: str = "string",
    field_type: str = "text",
    options: Iterable[str] = (),
    read_only: bool = False,
) -> dict[str, Any]:
    if type_ == "bool":
        options = ("true", "false")
    return {
        "name": name,
        "label": label,
        "type": type_,
        "fieldType": field_type,
        "options": [
            {"label": o.replace("_", " ").title(), "value": o, "displayOrder": i, "hidden": False}
            for i, o in enumerate(options)
        ],
        "readOnly": read_only,
    }


_COMMON = [
    _prop("hs_object_id", "Record ID", "number", "number", read_only=True),
    _prop("createdate", "Create Date", "datetime", "date"),
    _prop("hs_lastmodifieddate", "Last Modified Date", "datetime", "date", read_only=True),
]
_OWNER = _prop("hubspot_owner_id", "Owner", "enumeration", "select")
DEFAULT_PROPERTIES: dict[str, list[dict[str, Any]]] = {
    "deals": [
        _prop("dealname", "Deal Name"),
        _prop("amount", "Amount", "number", "number"),
        _prop("dealstage", "Deal Stage", "enumeration", "radio"),
        _prop("pipeline", "Pipeline", "enumeration", "select"),
        _prop("closedate", "Close Date", "datetime", "date"),
        _OWNER,
        _prop("hs_is_closed", "Is Deal Closed?", "bool", "booleancheckbox", read_only=True),
        _prop("hs_is_closed_won", "Is Closed Won", "bool", "booleancheckbox", read_only=True),
    ],
    # industry is an enumeration in HubSpot; kept a free string here so seeded companies with
    # any industry stay valid (the product only reads it).
    "companies": [
        _prop("name", "Company name"),
        _prop("domain", "Company Domain Name"),
        _prop("numberofemployees", "Number of Employees", "number", "number"),
        _prop("industry", "Industry"),
        _prop("country", "Country/Region"),
        _OWNER,
    ],
    "contacts": [
        _prop("email", "Email"),
        _prop("firstname", "First Name"),
        _prop("lastname", "Last Name"),
        _prop("jobtitle", "Job Title"),
        _prop(
            "hs_language", "Preferred language", "enumeration", "select",
            ("en", "de", "es", "fr", "it", "ja", "nl", "pt-br", "sv"),
        ),
        _OWNER,
    ],
    "tasks": [
        _prop("hs_timestamp", "Due date", "datetime", "date"),
        _prop("hs_task_subject", "Task Title"),
        _prop("hs_task_body", "Task notes", field_type="textarea"),
        _prop("hs_task_status", "Task Status", "enumeration", "select",
              ("NOT_STARTED", "COMPLETED")),
        _prop("hs_task_priority", "Priority", "enumeration", "select",
              ("NONE", "LOW", "MEDIUM", "HIGH")),
        _prop("hs_task_type", "Task Type", "enumeration", "select",
              ("TODO", "CALL", "EMAIL", "LINKED_IN", "MEETING")),
        _OWNER,
    ],
}  # fmt: skip
PROPERTY_TYPES = ("string", "number", "enumeration", "date", "datetime", "bool", "phone_number")


def property_definition(
    object_type: str, spec: dict[str, Any], at: str, hubspot_defined: bool
) -> dict[str, Any]:
    """A full definition as HubSpot returns it, from a default or an app's create request."""
    read_only = spec.get("readOnly", False)
    return {
        "name": spec["name"],
        "label": spec["label"],
        "type": spec["type"],
        "fieldType": spec["fieldType"],
        "description": spec.get("description", ""),
        "groupName": spec.get("groupName", f"{SINGULAR[object_type]}information"),
        "options": spec.get("options", []),
        "displayOrder": spec.get("displayOrder", -1),
        "calculated": read_only and hubspot_defined,
        "externalOptions": False,
        "hasUniqueValue": spec.get("hasUniqueValue", False),
        "hidden": spec.get("hidden", False),
        "hubspotDefined": hubspot_defined,
        "formField": spec.get("formField", False),
        "modificationMetadata": {
            "archivable": not hubspot_defined,
            "readOnlyDefinition": hubspot_defined,
            "readOnlyValue": read_only,
        },
        "createdAt": at,
        "updatedAt": at,
        "archived": False,
    }


def property_group(name: str, label: str, display_order: int = -1) -> dict[str, Any]:
    """A property group as HubSpot returns it."""
    return {"name": name, "label": label, "displayOrder": display_order, "archived": False}


class PropertySchema:
    """The account's property definitions and groups, and the endpoints that read or add them."""

    _groups: dict[str, dict[str, dict[str, Any]]]
    _properties: dict[str, dict[str, dict[str, Any]]]
    tier: str

    def _reset_schema(self) -> None:
        created = iso_millis(self.now())
        self._groups = {
            t: {f"{SINGULAR[t]}information": property_group(f"{SINGULAR[t]}information",
                                                            f"{SINGULAR[t].title()} information")}
            for t in OBJECT_TYPE_IDS
        }  # fmt: skip
        self._properties = {
            t: {p["name"]: property_definition(t, p, created, hubspot_defined=True)
                for p in _COMMON + DEFAULT_PROPERTIES[t]}
            for t in OBJECT_TYPE_IDS
        }  # fmt: skip

    def _options(self, object_type: str, definition: dict[str, Any]) -> list[dict[str, Any]]:
        """A property's options; stages, pipelines and owners come from the account's data."""
        name = definition["name"]
        if object_type == "deals" and name == "dealstage":
            values = [(s["id"], s["label"]) for p in self._pipelines.values() for s in p["stages"]]
        elif object_type == "deals" and name == "pipeline":
            values = [(p["id"], p["label"]) for p in self._pipelines.values()]
        elif name == "hubspot_owner_id":
            values = [(o["id"], f"{o['firstName']} {o['lastName']}") for o in self._owners.values()]
        else:
            return definition["options"]
        return [
            {"label": label, "value": value, "displayOrder": i, "hidden": False}
            for i, (value, label) in enumerate(values)
        ]

    @property
    def stage_properties(self) -> bool:
        """Stage calculated properties ("Date entered <stage>") exist on Professional and
        Enterprise accounts only (the tier is set in sandbox/hubspot/limits.py)."""
        return self.tier not in ("free", "starter")

    def _definitions(self, object_type: str) -> dict[str, dict[str, Any]]:
        """The account's properties: the stored ones, and per deal stage its date-entered one."""
        found = dict(self._properties[object_type])
        if object_type == "deals" and self.stage_properties:
            created = iso_millis(self.now())
            for pipeline in self._pipelines.values():
                for stage in pipeline["stages"]:
                    name = f"hs_v2_date_entered_{stage['id']}"
                    spec = {"name": name, "label": f"Date entered {stage['label']}",
                            "type": "datetime", "fieldType": "date"}  # fmt: skip
                    found[name] = property_definition(object_type, spec, created, True)
        return found

    def _property_json(self, object_type: str, definition: dict[str, Any]) -> dict[str, Any]:
        return {**definition, "options": self._options(object_type, definition)}

    @api_handler
    def list_properties(self, request: Request, object_type: str) -> Response:
        object_type = canonical_type(object_type)
        with self.lock:
            results = [
                self._property_json(object_type, d) for d in self._definitions(object_type).values()
            ]
        return self.json({"results": results})

    @api_handler
    def get_property(self, request: Request, object_type: str, name: str) -> Response:
        object_type = canonical_type(object_type)
        with self.lock:
            definition = self._definitions(object_type).get(name)
            if definition is None:
                raise ApiError(404, "OBJECT_NOT_FOUND", f"Unable to find property {name}")
            return self.json(self._property_json(object_type, definition))

    @api_handler
    def create_property(self, request: Request, object_type: str) -> Response:
        """201 with the definition; 409 OBJECT_ALREADY_EXISTS (category UNCONFIRMED) on a repeat."""
        object_type = canonical_type(object_type)
        spec = json_body(request)
        missing = [
            k for k in ("name", "label", "type", "fieldType", "groupName") if not spec.get(k)
        ]
        if missing:
            raise ApiError(
                400, "VALIDATION_ERROR", f"Missing required fields: {', '.join(missing)}"
            )
        if spec["type"] not in PROPERTY_TYPES:
            raise ApiError(400, "VALIDATION_ERROR", f"Unknown property type {spec['type']}")
        with self.lock:
            if spec["name"] in self._properties[object_type]:
                raise ApiError(
                    409,
                    "OBJECT_ALREADY_EXISTS",
                    f"A property named '{spec['name']}' already exists.",
                )
            if spec["groupName"] not in self._groups[object_type]:
                raise ApiError(
                    400, "VALIDATION_ERROR", f"Property group {spec['groupName']} does not exist"
                )
            options = [
                {"label": o["label"], "value": o["value"],
                 "displayOrder": o.get("displayOrder", i), "hidden": o.get("hidden", False)}
                for i, o in enumerate(spec.get("options") or [])
            ]  # fmt: skip
            definition = property_definition(
                object_type, {**spec, "options": options}, iso_millis(self.now()), False
            )
            self._properties[object_type][spec["name"]] = definition
            return self.json(self._property_json(object_type, definition), 201)

    @api_handler
    def create_group(self, request: Request, object_type: str) -> Response:
        object_type = canonical_type(object_type)
        spec = json_body(request)
        if not spec.get("name") or not spec.get("label"):
            raise ApiError(400, "VALIDATION_ERROR", "name and label are required")
        with self.lock:
            if spec["name"] in self._groups[object_type]:
                raise ApiError(
                    409,
                    "OBJECT_ALREADY_EXISTS",
                    f"A property group named '{spec['name']}' already exists.",
                )
            group = property_group(spec["name"], spec["label"], spec.get("displayOrder", -1))
            self._groups[object_type][spec["name"]] = group
        return self.json(group, 201)

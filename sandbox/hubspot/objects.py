"""The single-object endpoints: read, create (with associations) and update one record."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.hubspot.account import SINGULAR, canonical_type
from sandbox.hubspot.api import ApiError, api_handler, json_body, list_param
from sandbox.hubspot.values import validation_error

# associationTypeId -> (from type, to type), from the SDK's AssociationType enum.
ASSOCIATION_TYPES = {
    1: ("contacts", "companies"), 279: ("contacts", "companies"), 4: ("contacts", "deals"),
    2: ("companies", "contacts"), 280: ("companies", "contacts"), 6: ("companies", "deals"),
    342: ("companies", "deals"), 3: ("deals", "contacts"), 5: ("deals", "companies"),
    341: ("deals", "companies"), 216: ("tasks", "deals"), 192: ("tasks", "companies"),
    204: ("tasks", "contacts"),
}  # fmt: skip


class ObjectEndpoints:
    """GET, POST and PATCH on ``/crm/v3/objects/<type>``, validated like HubSpot."""

    @api_handler
    def get_object(self, request: Request, object_type: str, object_id: str) -> Response:
        object_type = canonical_type(object_type)
        archived = request.args.get("archived", "false").lower() == "true"
        with self.lock:
            record = self._get_or_404(object_type, object_id, archived)
            return self.json(
                self._record_json(
                    record, list_param(request, "properties"), list_param(request, "associations")
                )
            )

    @api_handler
    def update_object(self, request: Request, object_type: str, object_id: str) -> Response:
        object_type = canonical_type(object_type)
        body = json_body(request)
        with self.lock:
            record = self._get_or_404(object_type, object_id)
            cleaned = self._clean(object_type, body.get("properties") or {})
            self._apply(record, cleaned)
            return self.json(self._record_json(record, list(cleaned)))

    @api_handler
    def create_object(self, request: Request, object_type: str) -> Response:
        object_type = canonical_type(object_type)
        body = json_body(request)
        with self.lock:
            cleaned = self._clean(object_type, body.get("properties") or {})
            if object_type == "tasks" and not cleaned.get("hs_timestamp"):
                message = 'Property "hs_timestamp" is required'
                raise validation_error([("hs_timestamp", "REQUIRED_PROPERTY", message)])
            targets = [
                self._association_target(object_type, a) for a in body.get("associations") or []
            ]
            record = self._store(object_type, cleaned, None)
            for to_type, to_id in targets:
                self._link(object_type, record.id, to_type, to_id)
            return self.json(self._record_json(record, list(cleaned)), 201)

    def _association_target(self, object_type: str, spec: dict[str, Any]) -> tuple[str, str]:
        """(type, id) an association input points at; 400 when the type or record is wrong."""
        to_id = str((spec.get("to") or {}).get("id", ""))
        for kind in spec.get("types") or []:
            pair = ASSOCIATION_TYPES.get(int(kind.get("associationTypeId", -1)))
            if pair is None or pair[0] != object_type:
                raise ApiError(
                    400,
                    "VALIDATION_ERROR",
                    f"associationTypeId {kind.get('associationTypeId')} is not valid from "
                    f"{SINGULAR[object_type]}",
                )
            if self._find(pair[1], to_id) is None:
                raise ApiError(
                    400,
                    "VALIDATION_ERROR",
                    f"No {pair[1]} with id {to_id} to associate with",
                    context={"id": [to_id]},
                )
            return pair[1], to_id
        raise ApiError(400, "VALIDATION_ERROR", "An association needs at least one type")

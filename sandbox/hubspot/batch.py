"""The batch endpoints: read and update up to 100 records a call, with HubSpot's 207 answer."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.core import iso_millis
from sandbox.hubspot.account import SINGULAR, canonical_type
from sandbox.hubspot.api import ApiError, api_handler, json_body

MAX_BATCH = 100


def batch_inputs(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The body's ``inputs``; 400 when missing or over the batch limit."""
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        raise ApiError(400, "VALIDATION_ERROR", "inputs is required")
    if len(inputs) > MAX_BATCH:
        raise ApiError(
            400,
            "VALIDATION_ERROR",
            f"Batch input has {len(inputs)} inputs; the limit is {MAX_BATCH}.",
            context={"inputs": [str(len(inputs))]},
        )
    return inputs


class BatchEndpoints:
    """POST ``/crm/v3/objects/<type>/batch/read`` and ``.../batch/update``."""

    def _batch_answer(
        self, object_type: str, results: list[dict[str, Any]], missing: list[str], started: str
    ) -> Response:
        """200 with results, or 207 with HubSpot's one not-found error listing missing ids."""
        body: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": started,
            "completedAt": iso_millis(self.now()),
        }
        if not missing:
            return self.json(body)
        body["numErrors"] = 1
        body["errors"] = [
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "message": f"Could not get some {SINGULAR[object_type].upper()} objects, they "
                "may be deleted or not exist. Check that ids are valid.",
                "context": {"ids": missing},
                "links": {},
                "errors": [],
            }
        ]
        return self.json(body, 207)

    @api_handler
    def batch_read(self, request: Request, object_type: str) -> Response:
        object_type = canonical_type(object_type)
        body = json_body(request)
        started = iso_millis(self.now())
        inputs = batch_inputs(body)
        with self.lock:
            results, missing = [], []
            for item in inputs:
                record = self._find_by(object_type, str(item.get("id")), body.get("idProperty"))
                if record is None:
                    missing.append(str(item.get("id")))
                else:
                    results.append(self._record_json(record, body.get("properties")))
            return self._batch_answer(object_type, results, missing, started)

    @api_handler
    def batch_update(self, request: Request, object_type: str) -> Response:
        """All inputs are validated first: one bad property fails the whole batch with 400.

        Whether HubSpot fails the whole batch is UNCONFIRMED; we chose the stricter answer.
        """
        object_type = canonical_type(object_type)
        started = iso_millis(self.now())
        inputs = batch_inputs(json_body(request))
        with self.lock:
            cleaned = [self._clean(object_type, item.get("properties") or {}) for item in inputs]
            results, missing = [], []
            for item, properties in zip(inputs, cleaned, strict=True):
                record = self._find_by(object_type, str(item.get("id")), item.get("idProperty"))
                if record is None:
                    missing.append(str(item.get("id")))
                    continue
                self._apply(record, properties)
                results.append(self._record_json(record, list(properties)))
            return self._batch_answer(object_type, results, missing, started)

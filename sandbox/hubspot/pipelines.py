"""Deal pipelines and their stages: the default sales pipeline, the pipelines API, seeding."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.core import command, iso_millis
from sandbox.hubspot.account import canonical_type
from sandbox.hubspot.api import ApiError, api_handler
from sandbox.hubspot.values import as_text

DEFAULT_STAGES = [
    ("appointmentscheduled", "Appointment Scheduled", "0.2"),
    ("qualifiedtobuy", "Qualified To Buy", "0.4"),
    ("presentationscheduled", "Presentation Scheduled", "0.6"),
    ("decisionmakerboughtin", "Decision Maker Bought-In", "0.8"),
    ("contractsent", "Contract Sent", "0.9"),
    ("closedwon", "Closed Won", "1.0"),
    ("closedlost", "Closed Lost", "0.0"),
]


class Pipelines:
    """The account's deal pipelines; only deals have any."""

    _pipelines: dict[str, dict[str, Any]]

    def _reset_pipelines(self) -> None:
        self._pipelines = {}
        self.seed_pipeline("default", "Sales Pipeline", [
            {"id": sid, "label": label,
             "metadata": {"isClosed": str(sid.startswith("closed")).lower(), "probability": p}}
            for sid, label, p in DEFAULT_STAGES
        ])  # fmt: skip

    def _stage(self, stage_id: str) -> dict[str, Any]:
        stages = (s for p in self._pipelines.values() for s in p["stages"])
        return next((s for s in stages if s["id"] == stage_id), {})

    @api_handler
    def list_pipelines(self, request: Request, object_type: str) -> Response:
        deals = canonical_type(object_type) == "deals"
        with self.lock:
            return self.json({"results": list(self._pipelines.values()) if deals else []})

    @api_handler
    def get_pipeline(self, request: Request, object_type: str, pipeline_id: str) -> Response:
        deals = canonical_type(object_type) == "deals"
        with self.lock:
            pipeline = self._pipelines.get(pipeline_id) if deals else None
        if pipeline is None:
            raise ApiError(404, "OBJECT_NOT_FOUND", f"Unable to find pipeline {pipeline_id}")
        return self.json(pipeline)

    @command
    def seed_pipeline(self, id: str, label: str, stages: list[Any]) -> dict[str, Any]:
        """A deal pipeline; stages as ids or dicts with id, label and optional metadata."""
        at = iso_millis(self.now())
        built = []
        for order, stage in enumerate(stages):
            spec = (
                {"id": stage, "label": stage.replace("_", " ").title()}
                if isinstance(stage, str)
                else stage
            )
            metadata = {"isClosed": "false", "probability": "0.5", **spec.get("metadata", {})}
            built.append({
                "id": str(spec["id"]), "label": spec.get("label", str(spec["id"])),
                "displayOrder": order, "archived": False,
                "metadata": {k: as_text(v) for k, v in metadata.items()},
                "createdAt": at, "updatedAt": at,
            })  # fmt: skip
        pipeline = {
            "id": str(id),
            "label": label,
            "displayOrder": len(self._pipelines),
            "archived": False,
            "createdAt": at,
            "updatedAt": at,
            "stages": built,
        }
        with self.lock:
            self._pipelines[str(id)] = pipeline
        return pipeline

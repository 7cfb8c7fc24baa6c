"""A HubSpot webhook event as one frozen, typed value: parsed once, read everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class HubSpotEvent:
    """One event of a HubSpot delivery, e.g. ``deal.propertyChange`` of ``dealstage``."""

    inbox_id: int
    kind: str  # subscriptionType: deal.propertyChange, deal.deletion, company.propertyChange...
    object_id: str
    occurred_at_ms: int | None
    property_name: str | None = None
    value: str | None = None
    portal_id: str | None = None
    merged_ids: tuple[str, ...] = ()  # a merge's absorbed records (mergedObjectIds)
    survivor_id: str | None = None  # a merge's resulting record (newObjectId, else the primary)

    @property
    def object_type(self) -> str:
        """deal, company, contact (the part of the kind before the dot)."""
        return self.kind.partition(".")[0]

    @property
    def change(self) -> str:
        """propertyChange, deletion, creation, merge (the part of the kind after the dot)."""
        return self.kind.partition(".")[2]

    def changes(self, object_type: str, prop: str) -> bool:
        """Whether this is a change of ``prop`` on an object of ``object_type``."""
        return self.kind == f"{object_type}.propertyChange" and self.property_name == prop

    @classmethod
    def parse(cls, inbox_id: int, body: dict[str, Any]) -> HubSpotEvent:
        """From the stored body (the inbox checked the required fields when it kept it)."""
        value = body.get("propertyValue")
        occurred = body.get("occurredAt")
        portal = body.get("portalId")
        return cls(
            inbox_id=inbox_id,
            kind=str(body.get("subscriptionType") or body.get("eventType") or ""),
            object_id=str(body.get("objectId") or ""),
            occurred_at_ms=int(occurred) if occurred is not None else None,
            property_name=body.get("propertyName"),
            value=None if value is None else str(value),
            portal_id=None if portal is None else str(portal),
            merged_ids=tuple(str(i) for i in body.get("mergedObjectIds") or ()),
            survivor_id=_text(body.get("newObjectId") or body.get("primaryObjectId")),
        )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)

"""What HubSpot did with one batch update, read from its 200 or 207 (Multi-Status) answer.

A 207 lists the records written in ``results`` and the failures in ``errors``, each naming its
records in ``context.ids`` (https://developers.hubspot.com/docs/api-reference/error-handling).
OBJECT_NOT_FOUND means the record was deleted or merged away: writing it again cannot succeed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

GONE = "OBJECT_NOT_FOUND"


@dataclass
class BatchWrite:
    """Ids HubSpot confirmed, ids it no longer has, and the others it refused (try again)."""

    calls: int = 0
    written: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)

    def add(self, sent: Iterable[str], answer: Any) -> None:
        """Count one call's answer (an SDK BatchResponse... model) for the ids it was sent."""
        self.calls += 1
        written = {str(record.id) for record in answer.results or []}
        self.written |= written
        refused: dict[str, str] = {}
        for error in getattr(answer, "errors", None) or []:
            ids = [str(i) for i in (error.context or {}).get("ids") or []]
            if error.category == GONE:
                self.missing.update(ids)
            else:
                refused.update(dict.fromkeys(ids, f"{error.category}: {error.message}"))
        for record_id in set(sent) - written - self.missing:
            self.failed[record_id] = refused.get(record_id, "not confirmed in HubSpot's answer")

    def settled(self, record_id: str) -> bool:
        """Written, or gone for good: either way nothing is left to send."""
        return record_id in self.written or record_id in self.missing

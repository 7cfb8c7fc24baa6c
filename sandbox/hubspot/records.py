"""The record store: CRM objects, their associations, and their JSON as HubSpot returns it."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sandbox.core import iso_millis
from sandbox.hubspot.account import ALIASES, OBJECT_TYPE_IDS, SINGULAR
from sandbox.hubspot.api import ApiError
from sandbox.hubspot.values import as_text, parse_moment

# "Date entered <stage>" under both names found in live data: hs_v2_date_entered_<stage> (the
# current stage calculated properties) and hs_date_entered_<stage> (the older ones). Which a
# given account has is UNCONFIRMED by HubSpot's docs, so the emulator keeps both; both are
# datetimes, defined per stage in HubSpot, here recognised by their prefix.
DATE_ENTERED_PREFIXES = ("hs_v2_date_entered_", "hs_date_entered_")

# Returned when a GET names no properties (the real default set is UNCONFIRMED).
DEFAULT_READ = {
    "deals": ["dealname", "amount", "dealstage", "pipeline", "closedate"],
    "companies": ["name", "domain"],
    "contacts": ["firstname", "lastname", "email"],
    "tasks": ["hs_task_subject", "hs_task_status", "hs_timestamp"],
}
ALWAYS_READ = ["hs_object_id", "createdate", "hs_lastmodifieddate"]


@dataclass
class Record:
    """One CRM object as the emulator keeps it."""

    id: str
    type: str
    properties: dict[str, str]
    created: datetime
    updated: datetime
    archived_at: datetime | None = None
    links: dict[str, list[str]] = field(default_factory=dict)


class RecordStore:
    """Stores, finds and writes records, keeping what HubSpot derives from a deal's stage."""

    _records: dict[str, dict[str, Record]]
    _record_ids: Iterator[int]

    def _reset_records(self) -> None:
        self._record_ids = itertools.count(1000)
        self._records = {t: {} for t in OBJECT_TYPE_IDS}

    def _new_id(self) -> str:
        while True:
            candidate = str(next(self._record_ids))
            if not any(candidate in records for records in self._records.values()):
                return candidate

    def _find(self, object_type: str, object_id: str, archived: bool = False) -> Record | None:
        record = self._records[object_type].get(str(object_id))
        if record is None or (record.archived_at is not None) != archived:
            return None
        return record

    def _find_by(self, object_type: str, value: str, id_property: str | None) -> Record | None:
        """Look a record up by id, or by another unique property (``idProperty``)."""
        if id_property in (None, "", "hs_object_id"):
            return self._find(object_type, value)
        return next(
            (
                r
                for r in self._records[object_type].values()
                if r.archived_at is None and r.properties.get(id_property) == value
            ),
            None,
        )

    def _get_or_404(self, object_type: str, object_id: str, archived: bool = False) -> Record:
        record = self._find(object_type, object_id, archived)
        if record is None:
            raise ApiError(
                404,
                "OBJECT_NOT_FOUND",
                "Object not found.  objectId are usually numeric.",
                context={"id": [str(object_id)]},
            )
        return record

    def _store(self, object_type: str, properties: dict[str, str], id: str | None) -> Record:
        now = self.now()
        record_id = str(id) if id is not None else self._new_id()
        created = parse_moment(properties.get("createdate") or "") or now  # seeded history
        record = Record(record_id, object_type, {}, created, now)
        record.properties = {
            **properties,
            "hs_object_id": record_id,
            "createdate": iso_millis(created),
            "hs_lastmodifieddate": iso_millis(now),
        }
        if object_type == "deals":
            record.properties.setdefault("pipeline", "default")
            self._on_stage(record, record.properties.get("dealstage"))
            seeded = {k: v for k, v in properties.items() if k.startswith(DATE_ENTERED_PREFIXES)}
            record.properties.update(seeded)  # seeded history wins over "entered now"
        self._records[object_type][record_id] = record
        return record

    def _apply(self, record: Record, properties: dict[str, str]) -> dict[str, str]:
        """Write properties; return those whose value changed."""
        changed = {k: v for k, v in properties.items() if record.properties.get(k) != v}
        record.properties.update(changed)
        if record.type == "deals" and "dealstage" in changed:
            self._on_stage(record, changed["dealstage"])
        record.updated = self.now()
        record.properties["hs_lastmodifieddate"] = iso_millis(record.updated)
        return changed

    def _on_stage(self, record: Record, stage_id: str | None) -> None:
        """What HubSpot derives from a stage: entry date, closed and closed-won flags."""
        if not stage_id:
            return
        if self.stage_properties:  # Professional and Enterprise accounts only
            for prefix in DATE_ENTERED_PREFIXES:
                record.properties[f"{prefix}{stage_id}"] = iso_millis(self.now())
        metadata = self._stage(stage_id).get("metadata", {})
        closed = metadata.get("isClosed") == "true"
        if closed and not record.properties.get("closedate"):
            # HubSpot fills an empty close date when a deal reaches a closed stage (its
            # knowledge base; whether it overwrites a date a person set is UNCONFIRMED: kept).
            record.properties["closedate"] = iso_millis(self.now())
        record.properties["hs_is_closed"] = as_text(closed)
        record.properties["hs_is_closed_won"] = as_text(
            closed and metadata.get("probability") == "1.0"
        )

    def _link(self, a_type: str, a_id: str, b_type: str, b_id: str) -> None:
        """Associate two records both ways, once."""
        for (t1, i1), (t2, i2) in (
            ((a_type, a_id), (b_type, b_id)),
            ((b_type, b_id), (a_type, a_id)),
        ):
            linked = self._records[t1][i1].links.setdefault(t2, [])
            if i2 not in linked:
                linked.append(i2)

    def _associations(self, record: Record, wanted: list[str]) -> dict[str, Any]:
        """Associations as HubSpot lists them; the key is left out when there are none.

        Live captures (UNCONFIRMED) show the primary company twice, as ``deal_to_company`` and
        ``deal_to_company_unlabeled``, and other companies as ``_unlabeled`` only: we send that
        shape, so clients must dedupe by id.
        """
        found: dict[str, Any] = {}
        for name in wanted:
            to_type = ALIASES.get(name)
            ids = record.links.get(to_type or "", [])
            if not ids:
                continue
            label = f"{SINGULAR[record.type]}_to_{SINGULAR[to_type]}"
            results = []
            for position, other in enumerate(ids):
                if to_type == "companies" and record.type in ("deals", "contacts"):
                    if position == 0:
                        results.append({"id": other, "type": label})
                    results.append({"id": other, "type": f"{label}_unlabeled"})
                else:
                    results.append({"id": other, "type": label})
            found[to_type] = {"results": results}
        return found

    def _record_json(
        self,
        record: Record,
        properties: list[str] | None = None,
        associations: list[str] | None = None,
    ) -> dict[str, Any]:
        names = list(DEFAULT_READ[record.type] if properties is None else properties)
        defined = self._properties[record.type]
        shown = {
            n: record.properties.get(n) or None
            for n in dict.fromkeys(names + ALWAYS_READ)
            if n in defined or n in record.properties
        }
        out: dict[str, Any] = {
            "id": record.id,
            "properties": shown,
            "createdAt": iso_millis(record.created),
            "updatedAt": iso_millis(record.updated),
            "archived": record.archived_at is not None,
        }
        if record.archived_at is not None:
            out["archivedAt"] = iso_millis(record.archived_at)
        links = self._associations(record, associations or [])
        if links:
            out["associations"] = links
        return out

    def _full_json(self, record: Record) -> dict[str, Any]:
        """A record with every property and association, for seeding answers and tests."""
        return self._record_json(record, list(record.properties), list(OBJECT_TYPE_IDS))
